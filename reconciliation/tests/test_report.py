"""The reconciliation report on the hand-worked March scenario (see conftest.py for the data and arithmetic)."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reconciliation.report import reconcile

from .conftest import MARCH

pytestmark = pytest.mark.django_db


def by_code(report):
    return {row.grower_code: row for row in report.rows}


def test_a_grower_priced_by_packout_with_a_price_change_a_variety_price_and_signed_payments(acme, march):
    with acme:
        row = by_code(reconcile(*MARCH))["GA01"]

    # A1 26,600 (class1 at 10.00 before the change) + A3 15,000 (Pink Lady's own 15.00)
    # + A2 15,200 (class1 at 12.00 after the change); A0 is in February.
    assert row.expected_value == D("56800.00")
    assert (row.batches, row.rejected_batches, row.unpriced_batches) == (3, 0, 0)
    assert row.net_kg == D("10500.00")  # 3 x 3,500
    assert row.packed_kg == D("5900.00")  # (2000+1000+300) + (1000+500+100) + 1000; waste excluded
    # March only: advance 30,000, deduction 1,500, adjustment -2,000 (February's and April's left out).
    assert (row.paid_advance, row.paid_final, row.paid_deduction, row.paid_adjustment) == (
        D("30000.00"), D("0"), D("1500.00"), D("-2000.00"))
    assert row.total_paid == D("29500.00")  # 30,000 + 1,500 - 2,000
    assert row.balance == D("27300.00")  # 56,800 - 29,500
    assert row.variance_percent == D("48.06")  # 27,300 / 56,800 x 100 = 48.0633...
    assert row.flagged is True  # 27,300 > 500 (and 48.06 > 5)


def test_a_grower_priced_ungraded_with_a_rejected_batch(acme, march):
    with acme:
        row = by_code(reconcile(*MARCH))["GB01"]

    # B1: 3,500 kg x 5.00 ungraded (Fuji has no price of its own, the blank variety's applies); B2 rejected.
    assert row.expected_value == D("17500.00")
    assert (row.batches, row.rejected_batches, row.unpriced_batches) == (1, 1, 0)
    assert (row.net_kg, row.packed_kg) == (D("3500.00"), D("0"))
    assert row.total_paid == D("17400.00")
    assert row.balance == D("100.00")
    assert row.variance_percent == D("0.57")  # 100 / 17,500 x 100 = 0.5714...
    assert row.flagged is False  # 100 <= 500 and 0.57 <= 5


def test_unpriced_batches_are_counted_and_never_valued_at_zero(acme, march):
    with acme:
        row = by_code(reconcile(*MARCH))["GC01"]

    # C1 (pear, no price) and C3 (citrus class2 has no price) are unpriced; only C2 is valued: 3,500 x 5.00.
    assert row.unpriced_batches == 2
    assert row.batches == 3
    assert row.expected_value == D("17500.00")
    assert row.net_kg == D("10500.00")
    assert row.packed_kg == D("2500.00")  # C3: 2,000 + 500
    assert row.balance == D("17500.00")
    assert row.variance_percent == D("100.00")
    assert row.flagged is True


def test_growers_without_activity_are_left_out_and_payments_alone_count_as_activity(acme, march):
    with acme:
        rows = by_code(reconcile(*MARCH))

    assert sorted(rows) == ["GA01", "GB01", "GC01", "GE01", "GF01"]  # GD01 has nothing in March
    e = rows["GE01"]
    assert (e.batches, e.expected_value, e.paid_final, e.total_paid) == (0, D("0"), D("1000.00"), D("1000.00"))
    assert e.balance == D("-1000.00")
    assert e.variance_percent is None  # nothing expected: no percentage
    assert e.flagged is True  # |-1,000| > 500


def test_period_boundaries_are_the_companys_local_days(acme, march):
    with acme:
        row = by_code(reconcile(*MARCH))["GF01"]
        first_day = by_code(reconcile(MARCH[0], MARCH[0]))["GF01"]
        april_first = by_code(reconcile(MARCH[1].replace(month=4, day=1), MARCH[1].replace(month=4, day=1)))["GF01"]

    # F2 (1 Mar 00:30 local, still 28 Feb in UTC) and F3 (31 Mar 23:30 local) are in; F1 and F4 are out.
    assert row.batches == 2
    assert row.expected_value == D("35000.00")  # 2 x 17,500
    assert row.total_paid == D("35000.00")  # the 31 March advance; 1 April's is out
    assert (row.balance, row.variance_percent, row.flagged) == (D("0.00"), D("0.00"), False)
    assert first_day.batches == 1  # F2 only
    assert april_first.batches == 1  # F4, weighed on 31 March in UTC
    assert april_first.total_paid == D("999.00")


def test_totals_add_up_every_row(acme, march):
    with acme:
        totals = reconcile(*MARCH).totals

    assert (totals.growers, totals.flagged_growers) == (5, 3)  # GA01, GC01, GE01 flagged
    assert (totals.batches, totals.rejected_batches, totals.unpriced_batches) == (9, 1, 2)  # 3+1+3+0+2
    assert totals.net_kg == D("31500.00")  # 10,500 + 3,500 + 10,500 + 7,000
    assert totals.packed_kg == D("8400.00")  # 5,900 + 2,500
    assert totals.expected_value == D("126800.00")  # 56,800 + 17,500 + 17,500 + 0 + 35,000
    assert (totals.paid_advance, totals.paid_final, totals.paid_deduction, totals.paid_adjustment) == (
        D("82400.00"), D("1000.00"), D("1500.00"), D("-2000.00"))  # advances: 30,000 + 17,400 + 35,000
    assert totals.total_paid == D("82900.00")
    assert totals.balance == D("43900.00")  # 27,300 + 100 + 17,500 - 1,000 + 0
    assert totals.variance_percent == D("34.62")  # 43,900 / 126,800 x 100 = 34.621...


@pytest.mark.parametrize(
    ("thresholds", "flagged"),
    [
        ({}, ["GA01", "GC01", "GE01"]),  # the company's defaults: 500.00 or 5 %
        # Amount only: B's 100 > 99.99; F's 0 is not.
        ({"threshold_amount": D("99.99")}, ["GA01", "GB01", "GC01", "GE01"]),
        # |balance| must EXCEED the amount: B's 100 is not over 100.
        ({"threshold_amount": D("100")}, ["GA01", "GC01", "GE01"]),
        # Percent only: A's 48.06 is under 50, C's 100 is over, E has a balance against nothing expected.
        ({"threshold_percent": D("50")}, ["GC01", "GE01"]),
        # Both: A's 27,300 > 20,000; C over by percentage; E by both.
        ({"threshold_amount": D("20000"), "threshold_percent": D("50")}, ["GA01", "GC01", "GE01"]),
        ({"threshold_amount": D("0")}, ["GA01", "GB01", "GC01", "GE01"]),
    ],
)
def test_the_flag_rule(acme, march, thresholds, flagged):
    with acme:
        report = reconcile(*MARCH, **thresholds)

    assert sorted(row.grower_code for row in report.rows if row.flagged) == flagged
    assert report.totals.flagged_growers == len(flagged)


def test_company_defaults_are_used_and_reported(acme, march):
    with acme:
        report = reconcile(*MARCH)

    assert (report.threshold_amount, report.threshold_percent) == (D("500.00"), D("5.00"))
    assert (report.time_zone, report.currency) == ("Africa/Johannesburg", "ZAR")


def test_filters_by_grower_packhouse_fruit_and_flag(acme, march):
    with acme:
        only_a = reconcile(*MARCH, grower=march.a)
        at_ph2 = reconcile(*MARCH, packhouse=march.ph2)
        pears = reconcile(*MARCH, fruit_type="pear")
        flagged = reconcile(*MARCH, flagged=True)
        unflagged = reconcile(*MARCH, flagged=False)

    assert [row.grower_code for row in only_a.rows] == ["GA01"]
    assert only_a.rows[0].expected_value == D("56800.00")
    # PH2 had only B1; B's payments are still all shown (they belong to no packhouse); E (payments only) is out.
    (b,) = at_ph2.rows
    assert (b.grower_code, b.batches, b.rejected_batches, b.expected_value, b.total_paid) == (
        "GB01", 1, 0, D("17500.00"), D("17400.00"))
    (c,) = pears.rows
    assert (c.grower_code, c.batches, c.unpriced_batches, c.expected_value) == ("GC01", 1, 1, D("0"))
    assert [row.grower_code for row in flagged.rows] == ["GA01", "GC01", "GE01"]
    assert flagged.totals.growers == 3
    assert [row.grower_code for row in unflagged.rows] == ["GB01", "GF01"]


def test_ordering_and_pages(acme, march):
    with acme:
        by_balance = reconcile(*MARCH, ordering="-balance")
        page = reconcile(*MARCH, ordering="-balance", limit=2, offset=1)
        past_the_end = reconcile(*MARCH, limit=2, offset=10)

    assert [row.grower_code for row in by_balance.rows] == ["GA01", "GC01", "GB01", "GF01", "GE01"]
    assert [row.grower_code for row in page.rows] == ["GC01", "GB01"]
    assert page.totals.growers == 5  # totals cover every row, not the page
    assert page.totals.expected_value == D("126800.00")
    assert past_the_end.rows == [] and past_the_end.totals.growers == 5


def test_a_report_is_one_statement(acme, march):
    with acme, CaptureQueriesContext(connection) as queries:
        reconcile(*MARCH, threshold_amount=D("1"), ordering="-variance_percent")

    # django-tenants sets the search path once when the connection changes schema; that is not ours.
    # Before the report, one read of the zone batch_day_totals was built in (services.sync_time_zone).
    statements = [q["sql"] for q in queries if not q["sql"].startswith("SET search_path")]
    assert len(statements) == 2
    assert statements[0] == "SELECT time_zone FROM reconciliation_settings WHERE id = 1"
    sql = statements[1]
    assert sql.lstrip().startswith("WITH") and "acme." not in sql and "search_path" not in sql


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"date_from": MARCH[1], "date_to": MARCH[0]}, "to"),
        ({"date_from": MARCH[0].replace(year=2024), "date_to": MARCH[1]}, "to"),  # 761 days
        ({"fruit_type": "banana"}, "fruit_type"),
        ({"ordering": "password"}, "ordering"),
        ({"threshold_amount": D("-1")}, "threshold"),
    ],
)
def test_bad_parameters_are_refused(acme, kwargs, field):
    params = {"date_from": MARCH[0], "date_to": MARCH[1], **kwargs}
    with acme, pytest.raises(ValidationError) as caught:
        reconcile(params.pop("date_from"), params.pop("date_to"), **params)

    assert field in caught.value.message_dict


def test_no_activity_at_all_is_an_empty_report(acme):
    with acme:
        report = reconcile(*MARCH)

    assert report.rows == []
    assert (report.totals.growers, report.totals.expected_value, report.totals.variance_percent) == (0, D("0"), None)


def test_the_other_company_sees_none_of_it(globex, march):
    with globex:
        report = reconcile(*MARCH)

    assert report.rows == [] and report.totals.batches == 0
