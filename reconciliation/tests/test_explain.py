"""The report reads the period's rows through the indexes (docs/RECONCILIATION.md has a plan at 1M batches).

The report reads batch_day_totals (the batches summed per local day), so
its period is a plain range of dates; the statement reads batches by
intake_date, whose bounds are the local midnights as instants.
"""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection

from batches.models import Batch
from growers.models import Grower
from packhouses.models import Packhouse
from payments.models import GrowerPayment
from reconciliation.report import reconcile
from reconciliation.tests.helpers import explain

from .conftest import MARCH
from .helpers import SAST

pytestmark = pytest.mark.django_db


def plan_of(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(line for (line,) in cursor.fetchall())


# The same month as the report's index condition on batch_day_totals: local dates.
MARCH_DAYS = "Index Cond: ((day >= '2026-03-01'::date) AND (day <= '2026-03-31'::date))"


def no_seq_scans():
    # Make the planner use an index wherever one can serve: a predicate an index can bound becomes
    # its Index Cond; one it cannot stays a Filter over the whole index.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


def test_the_control_a_local_date_predicate_cannot_bound_the_index(acme, march):
    with acme:
        no_seq_scans()
        local_date = plan_of(
            "SELECT count(*) FROM batches "
            "WHERE (intake_date AT TIME ZONE 'Africa/Johannesburg')::date BETWEEN '2026-03-01' AND '2026-03-31'"
        )
        instants = plan_of(
            "SELECT count(*) FROM batches "
            "WHERE intake_date >= '2026-02-28 22:00+00' AND intake_date < '2026-03-31 22:00+00'"
        )

    assert "Index Cond: ((intake_date" not in local_date  # at best the whole index is read, then filtered
    assert "Index Cond: ((intake_date" in instants


@pytest.fixture
def a_year(acme):
    """5,000 batches and 1,200 payments spread over a year, then ANALYZE: enough for the planner to choose."""
    rng = random.Random(5)
    with acme:
        growers = Grower.objects.bulk_create([Grower(code=f"Y{n:03d}", name=f"Farm {n}") for n in range(40)])
        (ph,) = Packhouse.objects.bulk_create([Packhouse(code="YPH", name="Year")])
        start = dt.datetime(2025, 6, 1, tzinfo=SAST)
        Batch.objects.bulk_create([
            Batch(batch_code=f"Y-{n:05d}", grower=rng.choice(growers), packhouse=ph, fruit_type="apple",
                  variety="Gala", harvest_date=dt.date(2025, 5, 1),
                  intake_date=start + dt.timedelta(minutes=rng.randrange(365 * 24 * 60)), bin_count=8,
                  gross_weight_kg=Decimal("4000"), tare_weight_kg=Decimal("500"))
            for n in range(5000)
        ])
        GrowerPayment.objects.bulk_create([
            GrowerPayment(grower=rng.choice(growers), payment_type="advance", amount=Decimal("1000"),
                          paid_date=start.date() + dt.timedelta(days=rng.randrange(365)), reference=f"Y-{n}")
            for n in range(1200)
        ])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE batches")
            cursor.execute("ANALYZE grower_payments")
            cursor.execute("ANALYZE batch_day_totals")
    return growers


def test_on_a_years_data_the_planner_itself_picks_the_indexes_for_a_month(acme, a_year):
    with acme:
        plan = "\n".join(explain(*MARCH))
        report = reconcile(*MARCH)

    assert "batches" not in plan.replace("batch_day_totals", "")  # only the totals are read, never the batches
    assert "Seq Scan on batch_day_totals" not in plan and "batch_day_totals_pkey" in plan
    assert MARCH_DAYS in plan
    assert "Seq Scan on grower_payments" not in plan and "ix_grower_payments_paid_date" in plan
    assert 0 < report.totals.batches < 1000  # about a twelfth of 5,000


@pytest.mark.parametrize("filters", ["grower", "packhouse_and_fruit"])
def test_with_filters_the_big_tables_are_never_read_whole(acme, a_year, filters):
    with acme:
        if filters == "grower":
            kwargs = {"grower": a_year[3]}
        else:
            # Every batch of the year is YPH's and apple, so these filters narrow nothing and on so small a
            # table a sequential scan may win; what must hold is that the month's days bound the read.
            kwargs = {"packhouse": Packhouse.objects.get(code="YPH"), "fruit_type": "apple"}
            no_seq_scans()
        plan = "\n".join(explain(*MARCH, **kwargs))

    assert "Seq Scan on batch_day_totals" not in plan and "Seq Scan on grower_payments" not in plan
    assert "Index Cond: ((day >=" in plan or "Index Cond: ((grower_id =" in plan
