"""Reconciliation with pools (issue #18 item 6): a closed pool's batches are valued at the pool's rates.

The hand-worked example is pools' own (pools/tests/test_settlement.py, fixture `worked`: one pool, three
growers, two grades, all five charge bases); the reconciliation figures below are worked out here.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.tenancy import company_today
from growers.models import Grower
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from payments import services as payment_services
from pools import services as pool_services
from pools.settlement import settle
from pools.tests.helpers import make_pool, packed
from pools.tests.test_settlement import worked  # noqa: F401 (the fixture)
from reconciliation.models import BatchDayTotal
from reconciliation.report import grower_statement, reconcile

from .helpers import intake, price

pytestmark = pytest.mark.django_db
D = Decimal


def period():
    today = company_today()
    return today - dt.timedelta(days=30), today


def rows(report):
    return {row.grower_code: (row.expected_value, row.total_paid, row.balance, row.unpriced_batches)
            for row in report.rows}


def test_an_open_pool_leaves_the_batches_to_the_price_agreements(acme, worked):  # noqa: F811
    with acme:
        report = reconcile(*period())

    # No agreement prices apples here: every batch is unpriced, worth nothing, and counted.
    assert rows(report) == {
        "GA001": (D("0.00"), D("1000.00"), D("-1000.00"), 1),
        "GB002": (D("0.00"), D("2050.00"), D("-2050.00"), 1),
        "GC003": (D("0.00"), D("300.00"), D("-300.00"), 1),
    }


def test_the_hand_worked_example_once_the_pool_is_closed(acme, worked):  # noqa: F811
    with acme:
        pool_services.close_pool(worked)
        report = reconcile(*period())
        settlement = {s.grower_code: s for s in settle(worked)}

    # Rates: class 1 = 10 000.00 / (600 + 1500 + 200 = 2300 kg); class 2 = 2 000.00 / (300 + 400 + 250 = 950 kg)
    # (999.00 and its reversal net to nothing). Expected value = Σ_g kg × income / kg, rounded once per grower
    # and pool, half up:
    #   GA001: 600 × 10000/2300 + 300 × 2000/950 = 2608.6956… + 631.5789… = 3240.2745… -> 3240.27
    #   GB002: 1500 × 10000/2300 + 400 × 2000/950 = 6521.7391… + 842.1052… = 7363.8443… -> 7363.84
    #   GC003: 200 × 10000/2300 + 250 × 2000/950 = 869.5652… + 526.3157… = 1395.8810… -> 1395.88
    # Paid is every payment in the period, pool or not (the report is the grower's whole account):
    #   GA001: advance 1000.00;  GB002: advance 2000.00 + deduction 50.00 = 2050.00;
    #   GC003: advance 300.00 (against no pool).
    # Balance = expected - paid: 3240.27 - 1000.00 = 2240.27; 7363.84 - 2050.00 = 5313.84; 1395.88 - 300.00 = 1095.88
    assert rows(report) == {
        "GA001": (D("3240.27"), D("1000.00"), D("2240.27"), 0),
        "GB002": (D("7363.84"), D("2050.00"), D("5313.84"), 0),
        "GC003": (D("1395.88"), D("300.00"), D("1095.88"), 0),
    }
    assert {code: s.gross for code, s in settlement.items()} == {row.grower_code: row.expected_value
                                                                  for row in report.rows}
    assert report.totals.expected_value == D("11999.99")  # 12 000.00 of income, less what rounding once leaves


def test_after_a_posted_run_the_pool_adds_nothing_to_the_balance(acme, worked):  # noqa: F811
    """What a posted payment run writes (payments/, issue #18 item 4), recorded here by hand: per grower one
    final and one deduction per charge kind, against the pool."""
    with acme:
        pool_services.close_pool(worked)
        today = company_today()
        growers = Grower.objects.in_bulk()
        for s in settle(worked):
            payment_services.record_payment(grower=growers[s.grower_id], payment_type="final",
                                            amount=s.final, reference=f"FIN-{s.grower_code}", paid_date=today,
                                            pool=worked)
            for line in s.charges:
                payment_services.record_payment(grower=growers[s.grower_id], payment_type="deduction",
                                                amount=line.amount, reference=f"DED-{s.grower_code}-{line.rule_id}",
                                                paid_date=today, pool=worked)
        report = reconcile(*period())

    # Charges (pools' hand-worked test): GA001 315.00 + 12.50 + 33.00 + 28.33 + 243.02 = 631.85;
    # GB002 665.00 + 25.00 + 110.00 + 113.33 + 552.29 = 1465.62; GC003 157.50 + 6.25 + 44.00 + 113.33 + 104.69 = 425.77.
    # Finals: GA001 3240.27 - 631.85 - 1000.00 = 1608.42; GB002 7363.84 - 1465.62 - 2000.00 = 3898.22;
    # GC003 1395.88 - 425.77 - 0 = 970.11.
    # Paid = advances + earlier deductions + final + charges:
    #   GA001 1000.00 + 1608.42 + 631.85 = 3240.27            -> balance 0.00
    #   GB002 2000.00 + 50.00 + 3898.22 + 1465.62 = 7413.84   -> balance -50.00: the stray deduction against the
    #         pool, which settlement does not count as paid, is money withheld twice
    #   GC003 300.00 + 970.11 + 425.77 = 1695.88              -> balance -300.00: the advance against no pool
    assert rows(report) == {
        "GA001": (D("3240.27"), D("3240.27"), D("0.00"), 0),
        "GB002": (D("7363.84"), D("7413.84"), D("-50.00"), 0),
        "GC003": (D("1395.88"), D("1695.88"), D("-300.00"), 0),
    }


def test_the_report_stays_one_statement_with_closed_pools(acme, worked):  # noqa: F811
    with acme:
        pool_services.close_pool(worked)
        with CaptureQueriesContext(connection) as queries:
            reconcile(*period())

    statements = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(statements) == 2  # the zone read (services.sync_time_zone), then the report
    assert statements[1].lstrip().startswith("WITH") and "pool_rates" in statements[1]


def test_the_statement_shows_the_pool_and_adds_up_as_the_report(acme, worked):  # noqa: F811
    with acme:
        pool_services.close_pool(worked)
        grower = Grower.objects.get(code="GB002")
        statement = grower_statement(grower, *period())

    (pool,) = statement.pools
    assert (pool.pool_code, pool.batches, pool.unpriced_batches, pool.value) == ("P-APPLE", 1, 0, D("7363.84"))
    assert [(grade, kg) for grade, kg, _ in pool.grades] == [("class1", D("1500.00")), ("class2", D("400.00"))]
    assert [round(rate, 6) for _, _, rate in pool.grades] == [D("4.347826"), D("2.105263")]
    (batch,) = statement.batches
    assert (batch.pool_code, batch.value, batch.unpriced) == ("P-APPLE", D("7363.84"), False)
    assert statement.period_value == D("7363.84")
    assert statement.closing_balance == D("5313.84") == statement.entries[-1].balance


@pytest.fixture
def small_pool(acme):
    """Grower S1 with a packed batch of 1000 kg (600 class 1, 300 class 2) and an unpacked one, in one pool."""
    with acme:
        packhouse = PackhouseFactory()
        grower = GrowerFactory(code="S1")
        pool = make_pool(code="P-SMALL")
        packed(grower, packhouse, net=1000, class1=600, class2=300)
        return pool, grower, packhouse


def test_a_grade_with_kg_but_no_income_leaves_its_batches_unpriced(acme, small_pool):
    pool, grower, packhouse = small_pool
    with acme:
        today = company_today()
        pool_services.record_income(pool, grade="class1", amount=D("1200.00"), received_on=today, reference="I-1")
        wrong = pool_services.record_income(pool, grade="class2", amount=D("90.00"), received_on=today,
                                            reference="I-2")
        pool_services.reverse_income(wrong, reason="Not this pool's")
        pool_services.close_pool(pool)
        (row,) = reconcile(*period()).rows

    # Class 2 has 300 kg and its income nets to 0.00: no rate. Settlement would value it at zero; the report
    # says the batch is unpriced instead and leaves it out (1200.00 of class 1 is not shown as the whole worth).
    assert (row.expected_value, row.unpriced_batches, row.batches) == (D("0.00"), 1, 1)


def test_a_batch_without_pack_out_in_a_closed_pool_is_unpriced_even_with_an_ungraded_price(acme, small_pool):
    pool, grower, packhouse = small_pool
    with acme:
        today = company_today()
        price("apple", "ungraded", "5.00", today - dt.timedelta(days=400))
        intake(grower, packhouse, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        pool_services.record_income(pool, grade="class1", amount=D("1200.00"), received_on=today, reference="I-1")
        pool_services.record_income(pool, grade="class2", amount=D("150.00"), received_on=today, reference="I-2")
        open_row = reconcile(*period()).rows[0]
        pool_services.close_pool(pool)
        (closed_row,) = reconcile(*period()).rows

    # Open: the agreements value the unpacked batch (3500 kg × 5.00 = 17 500.00); the packed one has no class
    # prices, so it is unpriced.
    assert (open_row.expected_value, open_row.unpriced_batches) == (D("17500.00"), 1)
    # Closed: the pool pays by class kg only, so the unpacked batch has no pool rate: unpriced. The packed one is
    # 600 × 1200/600 + 300 × 150/300 = 1200.00 + 150.00 = 1350.00.
    assert (closed_row.expected_value, closed_row.unpriced_batches, closed_row.batches) == (D("1350.00"), 1, 2)


def test_two_closed_pools_are_rounded_once_each(acme):
    with acme:
        packhouse = PackhouseFactory()
        grower = GrowerFactory(code="R1")
        other = GrowerFactory(code="R2")
        gala, fuji = make_pool(code="P-GALA", variety="Gala"), make_pool(code="P-FUJI", variety="Fuji")
        today = company_today()
        for pool, variety in ((gala, "Gala"), (fuji, "Fuji")):
            packed(grower, packhouse, net=100, class1=1, class2=0, variety=variety)
            packed(other, packhouse, net=100, class1=2, class2=0, variety=variety)
            pool_services.record_income(pool, grade="class1", amount=D("0.05"), received_on=today,
                                        reference=f"I-{variety}")
            pool_services.close_pool(pool)
        report = reconcile(*period(), grower=grower)

    # Each pool: R1 has 1 of 3 class-1 kg of 0.05 -> 0.0166… -> 0.02 per pool, 0.04 in all. Rounded once over
    # both pools it would be 0.0333… -> 0.03; settlement pays 0.02 per pool, and the report agrees with it.
    assert report.rows[0].expected_value == D("0.04")


def test_closing_moves_the_batches_totals_to_the_pool_and_deleting_a_membership_moves_them_back(
        acme, worked):  # noqa: F811
    """pool_batches is append-only; a DELETE still happens when a company is restored or repaired by hand."""
    def by_pool():
        totals = {}
        for t in BatchDayTotal.objects.all():
            totals[t.pool_id] = totals.get(t.pool_id, 0) + t.batches
        return totals

    with acme:
        before = by_pool()
        pool_services.close_pool(worked)
        closed = by_pool()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending trigger events may block the ALTER
            cursor.execute("ALTER TABLE pool_batches DISABLE TRIGGER pool_batches_append_only")
            cursor.execute("DELETE FROM pool_batches WHERE batch_id = (SELECT min(batch_id) FROM pool_batches)")
        after_delete = by_pool()

    assert before == {0: 3}
    assert closed == {worked.pk: 3}
    assert after_delete == {0: 1, worked.pk: 2}


def test_the_statement_page_shows_the_closed_pool_in_the_companys_numbers(acme, worked):  # noqa: F811
    with acme:
        pool_services.close_pool(worked)
        grower = Grower.objects.get(code="GB002")
    date_from, date_to = period()

    html = acme.client("Finance").get(
        f"/reconciliation/growers/{grower.pk}/statement/?from={date_from}&to={date_to}").content.decode()

    assert 'data-testid="statement-pools"' in html and "P-APPLE" in html
    assert 'data-testid="pool-value">7\u00a0363,84<' in html
    assert "1\u00a0500,00" in html and "4,3478" in html  # class 1 kg and rate, en-ZA
