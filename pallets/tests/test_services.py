from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from batches.tests.factories import BatchFactory
from packhouses.tests.factories import PackhouseFactory
from pallets import services, sscc
from pallets.models import Pallet, PalletHistory, PalletLine, SsccCounter

from .factories import pallet_with_batch

pytestmark = pytest.mark.django_db


def events(pallet):
    return list(PalletHistory.objects.filter(pallet=pallet).values_list("event", flat=True))


def test_without_a_prefix_building_is_refused_with_where_to_set_it(acme):
    with acme:
        packhouse = PackhouseFactory()
        with pytest.raises(ValidationError, match="platform admin"):
            services.build_pallet(packhouse)
        assert not Pallet.objects.exists()


def test_build_issues_an_sscc_from_the_prefix(in_acme):
    pallet = services.build_pallet(PackhouseFactory())

    assert pallet.sscc.startswith("36001234") and len(pallet.sscc) == 18 and sscc.is_valid(pallet.sscc)
    assert pallet.status == "open"
    assert events(pallet) == ["built"]


def test_lines_never_exceed_the_packout(in_acme):
    pallet, batch = pallet_with_batch()
    services.add_line(pallet, batch=batch, grade="class1", cartons=100, kg=Decimal("2000"))

    with pytest.raises(ValidationError, match="1000.00 kg of class 1 left"):
        services.add_line(pallet, batch=batch, grade="class1", cartons=60, kg=Decimal("1000.01"))
    other = services.build_pallet(pallet.packhouse)
    services.add_line(other, batch=batch, grade="class1", cartons=50, kg=Decimal("1000"))
    with pytest.raises(ValidationError, match="0.00 kg of class 1 left"):
        services.add_line(other, batch=batch, grade="class1", cartons=1, kg=Decimal("0.01"))
    services.add_line(other, batch=batch, grade="class2", cartons=20, kg=Decimal("400"))

    assert services.remaining_kg([batch])[batch.pk] == {"class1": 0, "class2": 0, "class3": Decimal("50.00")}
    assert events(other) == ["built", "line_added", "line_added"]


def test_only_packed_batches_onto_open_pallets(in_acme):
    pallet, batch = pallet_with_batch()
    fresh = BatchFactory(packhouse=pallet.packhouse)

    with pytest.raises(ValidationError, match="only packed batches"):
        services.add_line(pallet, batch=fresh, grade="class1", cartons=1, kg=Decimal("1"))
    services.add_line(pallet, batch=batch, grade="class1", cartons=1, kg=Decimal("1"))
    services.close(pallet)
    with pytest.raises(ValidationError, match="open pallets only"):
        services.add_line(pallet, batch=batch, grade="class1", cartons=1, kg=Decimal("1"))


@pytest.mark.parametrize("grade, cartons, kg, field", [
    ("class4", 1, "1", "grade"), ("class1", 0, "1", "cartons"), ("class1", 1, "0", "kg"),
    ("class1", 1, "-5", "kg"), ("class1", 1, "1.001", "kg"), ("class1", 1, "NaN", "kg"),
])
def test_bad_lines_are_refused(in_acme, grade, cartons, kg, field):
    pallet, batch = pallet_with_batch()

    with pytest.raises(ValidationError) as refused:
        services.add_line(pallet, batch=batch, grade=grade, cartons=cartons, kg=kg)

    assert field in refused.value.message_dict
    assert not PalletLine.objects.exists()


def test_close_reopen_move_and_history(in_acme):
    pallet, batch = pallet_with_batch()
    with pytest.raises(ValidationError, match="no lines"):
        services.close(pallet)
    line = services.add_line(pallet, batch=batch, grade="class2", cartons=10, kg=Decimal("200"))
    services.remove_line(line)
    services.add_line(pallet, batch=batch, grade="class2", cartons=10, kg=Decimal("200"))
    room = services.create_room(packhouse=pallet.packhouse, code="CR1", name="Cold room 1", capacity=1)
    with pytest.raises(ValidationError, match="close it"):
        services.move_to_room(pallet, room)

    services.close(pallet)
    moved = services.move_to_room(pallet, room)
    assert (moved.status, moved.room_id, moved.warning) == ("stored", room.pk, None)
    services.reopen(moved)
    second, batch2 = pallet_with_batch(packhouse=pallet.packhouse)
    services.add_line(second, batch=batch2, grade="class1", cartons=1, kg=Decimal("5"))
    services.close(second)
    crowded = services.move_to_room(second, room)

    assert crowded.warning == "Room CR1 holds 2 pallets, over its capacity of 1."
    assert events(pallet) == ["built", "line_added", "line_removed", "line_added", "closed", "moved", "reopened"]
    pallet.refresh_from_db()
    assert pallet.version == 7


def test_the_trigger_refuses_lines_beyond_the_packout(in_acme):
    pallet, batch = pallet_with_batch()

    with pytest.raises(IntegrityError, match="pallet_lines"), transaction.atomic():
        PalletLine.objects.create(pallet=pallet, batch=batch, grade="class2", cartons=1, kg=Decimal("400.01"))
    PalletLine.objects.create(pallet=pallet, batch=batch, grade="class2", cartons=1, kg=Decimal("400"))


def test_packout_cannot_drop_below_what_is_on_pallets(in_acme):
    pallet, batch = pallet_with_batch()
    services.add_line(pallet, batch=batch, grade="class1", cartons=1, kg=Decimal("2500"))

    batch.class1_kg = Decimal("2000")
    with pytest.raises(ValidationError, match="already on pallets"), transaction.atomic():
        batch.save(update_fields=["class1_kg"])
    # Below the ORM, the database says no too.
    with pytest.raises(IntegrityError, match="below the kg already on pallets"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE batches SET class1_kg = 2499 WHERE id = %s", [batch.pk])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE batches SET class1_kg = 2500, waste_kg = 550 WHERE id = %s", [batch.pk])


def test_history_is_append_only(in_acme):
    pallet = services.build_pallet(PackhouseFactory())

    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        PalletHistory.objects.filter(pallet=pallet).update(event="closed")


def test_running_out_of_serials_is_a_clear_error(in_acme):
    in_acme.company.gs1_company_prefix = "6001234567"  # 10 digits leave 6 for the serial
    packhouse = PackhouseFactory()
    services.build_pallet(packhouse)
    SsccCounter.objects.update(last_serial=999_999)

    with pytest.raises(ValidationError, match="used up"):
        services.build_pallet(packhouse)

    assert SsccCounter.objects.get().last_serial == 999_999


def test_a_line_holds_the_locks_for_four_statements_however_full_the_pallet(in_acme):
    """docs/PERFORMANCE.md: clerks filling one pallet queue on its row lock, so what runs under it is counted."""
    pallet, batch = pallet_with_batch()
    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            services.add_line(pallet, batch=batch, grade="class1", cartons=1, kg=Decimal("1"))
        sql = [query["sql"] for query in captured.captured_queries
               if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SET search_path"))]
        assert "FOR UPDATE OF p, b" in sql[0]  # the pallet's and the batch's locks in one statement
        counts.append(len(sql))
    assert counts == [4, 4, 4]
    assert PalletLine.objects.filter(pallet=pallet).count() == 3
    assert events(pallet) == ["built", "line_added", "line_added", "line_added"]
    history = PalletHistory.objects.filter(pallet=pallet, event="line_added").order_by("id").last()
    assert history.payload == {"line": PalletLine.objects.order_by("id").last().pk, "batch": batch.batch_code,
                               "grade": "class1", "cartons": 1, "kg": "1"}
    assert Pallet.objects.get(pk=pallet.pk).version == 4
