"""seed_demo's pallets, rooms and loads (demo/pallets.py), at a small scale."""

import re
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from batches.models import Batch, Status
from demo.pallets import demo_prefix
from dispatch import services as dispatch_services
from dispatch.models import Load, LoadCounter, LoadPallet, LoadStatus
from packhouses.models import Packhouse
from pallets import services as pallet_services
from pallets import sscc
from pallets.models import Pallet, PalletHistory, PalletLine, PalletStatus, Room, SsccCounter

pytestmark = pytest.mark.django_db

SMALL = ("--schema", "acme", "--batches", "400", "--growers", "10", "--packhouses", "2", "--seed", "11")


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def palletised(acme):
    output = seed(*SMALL)
    acme.company.refresh_from_db()
    return acme, output


def test_the_company_gets_a_demo_gs1_prefix_and_rooms(palletised):
    acme, output = palletised
    assert acme.company.gs1_company_prefix == demo_prefix("acme")
    assert re.fullmatch(r"6009[0-9]{3}", acme.company.gs1_company_prefix)
    with acme:
        assert Room.objects.values("packhouse").distinct().count() == 2
        assert Room.objects.count() == 8
    assert "8 rooms" in output and "pallets" in output


def test_lines_never_exceed_the_packout_and_mixed_pallets_exist(palletised):
    acme, _ = palletised
    with acme:
        assert PalletLine.objects.count() > 100
        on = defaultdict(Decimal)
        for batch_id, grade, kg in PalletLine.objects.values_list("batch_id", "grade").annotate(kg=Sum("kg")):
            on[(batch_id, grade)] = kg
        batches = Batch.objects.in_bulk({batch_id for batch_id, _ in on})
        for (batch_id, grade), kg in on.items():
            assert kg <= getattr(batches[batch_id], f"{grade}_kg"), (batch_id, grade)
        per_pallet = Counter(dict(PalletLine.objects.values_list("pallet").annotate(
            batches=Count("batch", distinct=True))))
        assert set(per_pallet.values()) <= {1, 2, 3}
        mixed = sum(1 for n in per_pallet.values() if n > 1)
        assert mixed > len(per_pallet) * 0.3
        # A pallet holds one packhouse's batches of one fruit.
        for pallet in Pallet.objects.prefetch_related("lines__batch")[:200]:
            assert {line.batch.packhouse_id for line in pallet.lines.all()} == {pallet.packhouse_id}
            assert len({line.batch.fruit_type for line in pallet.lines.all()}) == 1
        # The database's own rule is back on: one more kg than packed is refused.
        line = PalletLine.objects.select_related("batch").first()
        with pytest.raises(IntegrityError), transaction.atomic():
            PalletLine.objects.create(pallet=line.pallet, batch=line.batch, grade=line.grade, cartons=1,
                                      kg=Decimal("0.01") + getattr(line.batch, f"{line.grade}_kg"))


def test_every_dispatched_batch_is_whole_on_dispatched_pallets_of_dispatched_loads(palletised):
    acme, _ = palletised
    with acme:
        dispatched = list(Batch.objects.filter(status=Status.DISPATCHED))
        assert len(dispatched) > 100
        out = pallet_services.dispatched_kg(batch.pk for batch in dispatched)
        for batch in dispatched:
            assert out.get(batch.pk) == batch.class1_kg + batch.class2_kg + batch.class3_kg, batch.batch_code
        # Dispatched pallets are on dispatched loads, and only those are.
        dispatched_pallets = Pallet.objects.filter(status=PalletStatus.DISPATCHED)
        assert LoadPallet.objects.count() == dispatched_pallets.count()
        assert not dispatched_pallets.filter(load_pallet__isnull=True).exists()
        assert set(Load.objects.values_list("status", flat=True)) == {LoadStatus.DISPATCHED}
        for load in Load.objects.annotate(n=Count("load_pallets")):
            assert 1 <= load.n <= 22 and load.version == load.n + 2 and load.dispatched_at >= load.created_at
        # No packed batch has all its kg out of the door (the trace would flag it).
        packed = Batch.objects.filter(status=Status.PACKED)
        assert not PalletLine.objects.filter(batch__in=packed, pallet__status=PalletStatus.DISPATCHED).exists()
        assert packed.filter(pallet_lines__isnull=True).exists()  # some wait for pallets
        statuses = set(Pallet.objects.values_list("status", flat=True))
        assert {PalletStatus.DISPATCHED, PalletStatus.STORED} <= statuses
        assert not Pallet.objects.filter(status=PalletStatus.STORED, room__isnull=True).exists()


def test_history_counts_every_change(palletised):
    acme, _ = palletised
    with acme:
        events = defaultdict(Counter)
        for pallet_id, event in PalletHistory.objects.values_list("pallet_id", "event"):
            events[pallet_id][event] += 1
        for pallet in Pallet.objects.annotate(n=Count("lines")):
            mine = events[pallet.pk]
            assert mine["built"] == 1 and mine["line_added"] == pallet.n
            assert pallet.version == sum(mine.values())
            if pallet.status == PalletStatus.DISPATCHED:
                assert mine["loaded"] == mine["dispatched"] == 1
        built = PalletHistory.objects.filter(event="built").select_related("pallet").first()
        assert built.payload["sscc"] == built.pallet.sscc
        assert built.recorded_at == built.pallet.built_at


def test_ssccs_are_valid_unique_and_the_next_ones_carry_on(palletised):
    acme, _ = palletised
    with acme:
        codes = list(Pallet.objects.values_list("sscc", flat=True))
        assert len(codes) == len(set(codes)) > 50
        assert all(sscc.is_valid(code) for code in codes)
        prefix = acme.company.gs1_company_prefix
        serials = sorted(int(code[1 + len(prefix):17]) for code in codes)
        assert all(code[1:1 + len(prefix)] == prefix for code in codes)
        assert serials == list(range(1, len(codes) + 1))
        assert SsccCounter.objects.get().last_serial == len(codes)
        # Built in SSCC order.
        by_serial = list(Pallet.objects.order_by("sscc").values_list("built_at", flat=True))
        assert by_serial == sorted(by_serial)

        packhouse = Packhouse.objects.order_by("code").first()
        pallet = pallet_services.build_pallet(packhouse)
        assert int(pallet.sscc[1 + len(prefix):17]) == len(codes) + 1 and pallet.sscc not in codes

        numbers = set(Load.objects.values_list("load_number", flat=True))
        load = dispatch_services.create_load(packhouse=packhouse)
        assert load.load_number not in numbers
        year = int(load.load_number[1:5])
        assert load.load_number == f"L{year}-{LoadCounter.objects.get(year=year).last_number:05d}"
        for counter in LoadCounter.objects.all():
            mine = sorted(int(n[6:]) for n in numbers if n.startswith(f"L{counter.year}-"))
            if counter.year != year:
                assert mine == list(range(1, counter.last_number + 1))
            else:
                assert mine == list(range(1, counter.last_number))


def test_running_again_adds_no_pallets_and_more_batches_get_theirs(palletised):
    acme, _ = palletised
    with acme:
        before = (Pallet.objects.count(), PalletLine.objects.count(), Load.objects.count(),
                  PalletHistory.objects.count(), Room.objects.count())
    seed(*SMALL[:-1], "12")
    with acme:
        assert (Pallet.objects.count(), PalletLine.objects.count(), Load.objects.count(),
                PalletHistory.objects.count(), Room.objects.count()) == before
    seed("--schema", "acme", "--batches", "600", "--growers", "10", "--packhouses", "2", "--seed", "13")
    with acme:
        assert Pallet.objects.count() > before[0]
        codes = list(Pallet.objects.values_list("sscc", flat=True))
        assert len(codes) == len(set(codes)) and SsccCounter.objects.get().last_serial == len(codes)
        for batch in Batch.objects.filter(status=Status.DISPATCHED):
            assert pallet_services.dispatched_kg([batch.pk]).get(batch.pk) == (
                batch.class1_kg + batch.class2_kg + batch.class3_kg)
        assert PalletLine.objects.values("batch", "grade").annotate(n=Count("id")).filter(n__gt=1).count() == 0
