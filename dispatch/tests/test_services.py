from datetime import date

import pytest
from django.core.exceptions import ValidationError

from batches import services as batch_services
from batches.models import Batch, BatchHistory
from batches.tests.factories import packed_batch
from core.errors import Conflict
from dispatch import services
from dispatch.models import Load, LoadStatus
from packhouses.tests.factories import PackhouseFactory
from pallets import services as pallet_services
from pallets.models import Pallet, PalletHistory

from .factories import closed_pallet, load_with, whole_batch_pallets, world

pytestmark = pytest.mark.django_db


def messages(exc):
    return " ".join(exc.value.messages)


def test_load_numbers_count_per_year(in_acme):
    packhouse = PackhouseFactory()
    first = services.create_load(packhouse=packhouse)
    second = services.create_load(packhouse=packhouse)
    year = date.today().year
    assert first.load_number == f"L{year}-00001" and second.load_number == f"L{year}-00002"
    assert first.status == LoadStatus.PLANNING


def test_container_check_digit(in_acme):
    packhouse = PackhouseFactory()
    load = services.create_load(packhouse=packhouse, container_number=" csqu 305438 3 ")
    assert load.container_number == "CSQU3054383"
    with pytest.raises(ValidationError) as exc:
        services.create_load(packhouse=packhouse, container_number="CSQU3054384")
    assert "container_number" in exc.value.message_dict and "ISO 6346" in messages(exc)
    with pytest.raises(ValidationError):
        services.update_load(load, container_number="XX12")
    assert services.create_load(packhouse=packhouse, container_number="").container_number == ""


def test_scan_refusals(in_acme):
    packhouse, batch, one, two = world()
    load = load_with(packhouse, [one])
    other = services.create_load(packhouse=packhouse)

    with pytest.raises(ValidationError) as exc:
        services.add_pallet(other, "123")
    assert "18 digits" in messages(exc)
    with pytest.raises(ValidationError) as exc:
        services.add_pallet(other, "3" + "0" * 17)
    assert "No pallet of this company has SSCC" in messages(exc)
    with pytest.raises(ValidationError) as exc:
        services.add_pallet(other, one.sscc)
    assert f"already on load {load.load_number}" in messages(exc)
    with pytest.raises(ValidationError) as exc:
        services.add_pallet(load, one.sscc)
    assert "already on this load" in messages(exc)
    open_pallet = pallet_services.build_pallet(packhouse)
    with pytest.raises(ValidationError) as exc:
        services.add_pallet(other, open_pallet.sscc)
    assert "is open; only closed or stored pallets go on a load" in messages(exc)
    elsewhere = services.create_load(packhouse=PackhouseFactory())
    with pytest.raises(ValidationError) as exc:
        services.add_pallet(elsewhere, "00" + two.sscc)  # the scanner's AI is accepted
    assert f"is at packhouse {packhouse.code}" in messages(exc)


def test_load_and_unload_write_pallet_history(in_acme):
    packhouse, batch, one, two = world()
    room = pallet_services.create_room(packhouse=packhouse, code="CR1", name="Cold 1", capacity=5)
    pallet_services.move_to_room(two, room)
    load = load_with(packhouse, [one, two])
    assert Load.objects.get(pk=load.pk).status == LoadStatus.LOADING
    assert set(Pallet.objects.filter(pk__in=[one.pk, two.pk]).values_list("status", flat=True)) == {"loaded"}

    services.remove_pallet(load, one)
    services.remove_pallet(load, two)

    assert Pallet.objects.get(pk=one.pk).status == "closed" and Pallet.objects.get(pk=two.pk).status == "stored"
    assert Load.objects.get(pk=load.pk).status == LoadStatus.PLANNING
    events = list(PalletHistory.objects.filter(pallet=two).values_list("event", flat=True))
    assert events[-2:] == ["loaded", "unloaded"]
    with pytest.raises(ValidationError) as exc:
        services.remove_pallet(load, one)
    assert "is not on load" in messages(exc)


def test_dispatch_moves_exactly_the_batches_wholly_on_dispatched_pallets(in_acme):
    packhouse = PackhouseFactory()
    whole, one, two = whole_batch_pallets(packhouse)
    partly = packed_batch(packhouse=packhouse)
    mixed = closed_pallet(packhouse, [(partly, "class1", "1000")])
    left_behind = closed_pallet(packhouse, [(partly, "class1", "2000"), (partly, "class2", "400"),
                                            (partly, "class3", "50")])
    load = load_with(packhouse, [one, two, mixed], seal_number="SEAL-1")

    load = services.dispatch_load(load)

    assert [batch.batch_code for batch in load.batches_dispatched] == [whole.batch_code]
    assert Batch.objects.get(pk=whole.pk).status == "dispatched"
    assert Batch.objects.get(pk=partly.pk).status == "packed"
    assert Pallet.objects.get(pk=left_behind.pk).status == "closed"
    assert set(Pallet.objects.filter(pk__in=[one.pk, two.pk, mixed.pk]).values_list("status", flat=True)) == {
        "dispatched"}
    row = BatchHistory.objects.filter(batch=whole, to_status="dispatched").get()
    assert load.load_number in row.payload["reason"]
    assert PalletHistory.objects.filter(pallet=mixed, event="dispatched").count() == 1
    fresh = Load.objects.get(pk=load.pk)
    assert fresh.status == "dispatched" and fresh.dispatched_at is not None

    # The rest of the batch leaves on a second load: now it is dispatched too.
    second = services.dispatch_load(load_with(packhouse, [left_behind]))
    assert [batch.batch_code for batch in second.batches_dispatched] == [partly.batch_code]


def test_a_dispatched_load_does_not_change(in_acme):
    packhouse, batch, one, two = world()
    load = services.dispatch_load(load_with(packhouse, [one, two]))
    for call in (lambda: services.dispatch_load(load), lambda: services.update_load(load, seal_number="X"),
                 lambda: services.remove_pallet(load, one), lambda: services.add_pallet(load, one.sscc)):
        with pytest.raises(ValidationError) as exc:
            call()
        assert "dispatched on" in messages(exc)


def test_an_empty_load_is_not_dispatched(in_acme):
    load = services.create_load(packhouse=PackhouseFactory())
    with pytest.raises(ValidationError) as exc:
        services.dispatch_load(load)
    assert "has no pallets" in messages(exc)


def test_manual_dispatch_refused_for_a_batch_on_pallets(in_acme):
    packhouse, batch, one, two = world()
    with pytest.raises(ValidationError) as exc:
        batch_services.transition(batch, "dispatched")
    assert "is on pallets" in messages(exc)
    assert Batch.objects.get(pk=batch.pk).status == "packed"
    # A batch without pallet lines still moves by hand.
    loose = packed_batch(packhouse=packhouse)
    assert batch_services.transition(loose, "dispatched").status == "dispatched"


def test_dispatch_is_one_transaction(in_acme):
    """A refusal midway (the batch move after the pallets were dispatched, made to fail here) changes nothing."""
    packhouse, batch, one, two = world()
    load = load_with(packhouse, [one, two])
    history = PalletHistory.objects.count()
    original = batch_services.transition

    def failing(*args, **kwargs):
        raise Conflict("Batch is being changed by someone else right now.")

    batch_services.transition = failing
    try:
        with pytest.raises(Conflict):
            services.dispatch_load(load)
    finally:
        batch_services.transition = original

    assert Load.objects.get(pk=load.pk).status == LoadStatus.LOADING
    assert set(Pallet.objects.filter(pk__in=[one.pk, two.pk]).values_list("status", flat=True)) == {"loaded"}
    assert PalletHistory.objects.count() == history
    assert Batch.objects.get(pk=batch.pk).status == "packed"
