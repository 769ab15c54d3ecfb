"""batch_day_totals stays equal to the batches it sums, after every kind of write (migration 0002).

The expectation is recomputed here in Python from the batches themselves,
not with the SQL the triggers use.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from batches import services as batch_services
from batches.models import Batch
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory
from reconciliation.models import BatchDayTotal
from reconciliation.report import reconcile
from reconciliation.services import bulk_batch_load, sync_time_zone
from tenants.models import Company

from .helpers import intake, local, packout, price, reject

pytestmark = pytest.mark.django_db

ZERO = Decimal("0")


def expected_totals(zone="Africa/Johannesburg"):
    sums = defaultdict(lambda: [0, ZERO, ZERO, ZERO, ZERO])
    for b in Batch.objects.all():
        key = (
            b.intake_date.astimezone(ZoneInfo(zone)).date(), b.grower_id, b.fruit_type, b.variety, b.packhouse_id,
            b.status == "rejected", b.class1_kg is not None,
            (b.class1_kg or 0) > 0, (b.class2_kg or 0) > 0, (b.class3_kg or 0) > 0,
        )
        row = sums[key]
        row[0] += 1
        row[1] += b.net_weight_kg
        row[2] += b.class1_kg or ZERO
        row[3] += b.class2_kg or ZERO
        row[4] += b.class3_kg or ZERO
    return {key: tuple(row) for key, row in sums.items()}


def stored_totals():
    return {
        (t.day, t.grower_id, t.fruit_type, t.variety, t.packhouse_id, t.rejected, t.graded,
         t.has_class1, t.has_class2, t.has_class3): (t.batches, t.net_kg, t.class1_kg, t.class2_kg, t.class3_kg)
        for t in BatchDayTotal.objects.all()
    }


@pytest.fixture
def two_growers(acme):
    with acme:
        return GrowerFactory(code="T01"), GrowerFactory(code="T02"), PackhouseFactory(code="TPH")


def test_every_kind_of_write_keeps_the_totals_exact(acme, two_growers):
    a, b, ph = two_growers
    with acme:
        first = intake(a, ph, local(2026, 3, 10))
        second = intake(a, ph, local(2026, 3, 10, 14))  # same day, same key: one row of two batches
        third = intake(a, ph, local(2026, 3, 10, 23, 30), variety="Fuji")
        assert stored_totals() == expected_totals()
        assert BatchDayTotal.objects.get(variety="Gala").batches == 2

        packout(first, "2000", "1000", "0", "500")  # its shape changes: a row of its own
        reject(second)
        assert stored_totals() == expected_totals()

        batch_services.correct_batch(
            third, {"block": block_for(a, "apple", "Gala"), "gross_weight_kg": Decimal("5000")}, reason="Slip",
        )
        assert stored_totals() == expected_totals()
        Batch.objects.filter(pk=third.pk).update(grower=b)  # not a service: the trigger still sees it
        assert stored_totals() == expected_totals()

        batch_services.transition(Batch.objects.get(pk=first.pk), "packing")  # nothing the totals hold changes
        assert stored_totals() == expected_totals()

        loose = Batch.objects.create(
            batch_code="LOOSE-1", grower=b, packhouse=ph, fruit_type="pear", variety="Forelle",
            harvest_date=dt.date(2026, 3, 1), intake_date=local(2026, 3, 2), bin_count=1,
            gross_weight_kg=Decimal("100"), tare_weight_kg=Decimal("10"),
        )
        Batch.objects.filter(pk=loose.pk).update(intake_date=local(2026, 3, 3))
        assert stored_totals() == expected_totals()
        Batch.objects.filter(pk=loose.pk).delete()
        assert stored_totals() == expected_totals()
        assert BatchDayTotal.objects.filter(fruit_type="pear").count() == 0  # emptied rows go


def test_truncating_the_batches_empties_the_totals(acme, two_growers):
    a, _, ph = two_growers
    with acme:
        intake(a, ph, local(2026, 3, 10))
        assert BatchDayTotal.objects.count() == 1
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check
            cursor.execute("TRUNCATE batches CASCADE")
        assert BatchDayTotal.objects.count() == 0


def test_a_bulk_load_is_summed_once_at_its_end(acme, two_growers):
    a, _, ph = two_growers
    with acme:
        intake(a, ph, local(2026, 3, 10))
        with transaction.atomic(), bulk_batch_load():
            Batch.objects.bulk_create([
                Batch(batch_code=f"BULK-{n}", grower=a, packhouse=ph, fruit_type="apple", variety="Gala",
                      harvest_date=dt.date(2026, 3, 1), intake_date=local(2026, 3, 11), bin_count=1,
                      gross_weight_kg=Decimal("1000"), tare_weight_kg=Decimal("100"))
                for n in range(5)
            ])
            assert sum(t.batches for t in BatchDayTotal.objects.all()) == 1  # the triggers stood aside
        assert stored_totals() == expected_totals()
        assert sum(t.batches for t in BatchDayTotal.objects.all()) == 6

        # After the load the triggers are back at work.
        intake(a, ph, local(2026, 3, 12))
        assert stored_totals() == expected_totals()


def test_a_new_company_time_zone_moves_batches_to_their_new_local_days(acme, two_growers):
    a, _, ph = two_growers
    with acme:
        price("apple", "ungraded", "1.00", dt.date(2026, 1, 1))
        late = intake(a, ph, local(2026, 3, 10, 23, 30))  # 21:30 UTC: the 10th in Johannesburg and in UTC
        early = intake(a, ph, local(2026, 3, 11, 1, 0))  # 23:00 UTC on the 10th: the 11th only in Johannesburg
        assert BatchDayTotal.objects.filter(day=dt.date(2026, 3, 11)).count() == 1
        assert sync_time_zone() is False  # nothing to do while the zone is unchanged

    Company.objects.filter(pk=acme.company.pk).update(time_zone="UTC")
    acme.company.refresh_from_db()
    with acme:
        connection.tenant.time_zone = "UTC"
        only_the_10th = reconcile(dt.date(2026, 3, 10), dt.date(2026, 3, 10))  # syncs first
        assert stored_totals() == expected_totals("UTC")
        assert {t.day for t in BatchDayTotal.objects.all()} == {dt.date(2026, 3, 10)}
        assert only_the_10th.totals.batches == 2
        assert only_the_10th.totals.expected_value == late.net_weight_kg + early.net_weight_kg
        with connection.cursor() as cursor:
            cursor.execute("SELECT time_zone FROM reconciliation_settings")
            assert cursor.fetchone() == ("UTC",)
