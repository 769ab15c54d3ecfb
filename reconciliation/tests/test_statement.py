"""The grower statement on the March scenario (conftest.py has the data and arithmetic)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from reconciliation.report import grower_statement, reconcile

from .conftest import MARCH

pytestmark = pytest.mark.django_db


def test_statement_of_a_grower_priced_by_packout(acme, march):
    with acme:
        s = grower_statement(march.a, *MARCH)

    # Opening: A0 (20 Feb) 3,500 x 5.00 = 17,500 less the 25 Feb advance of 10,000 = 7,500.
    assert (s.opening_value, s.opening_paid, s.opening_balance) == (D("17500.00"), D("10000.00"), D("7500.00"))
    assert s.opening_unpriced_batches == 0
    assert [b.batch_code for b in s.batches] == [march.a1.batch_code, march.a3.batch_code, march.a2.batch_code]
    assert [b.value for b in s.batches] == [D("26600.00"), D("15000.00"), D("15200.00")]
    assert [b.priced_by for b in s.batches] == ["packout"] * 3
    # A1 on 10 March: class1 at 10.00; A3: Pink Lady's own price; A2 on 20 March: class1 at 12.00.
    assert s.batches[0].prices == {"class1": D("10.0000"), "class2": D("6.0000"), "class3": D("2.0000")}
    assert s.batches[1].prices == {"class1": D("15.0000")}  # no class 2 or 3 kg: no price needed
    assert s.batches[2].prices["class1"] == D("12.0000")
    assert [p.amount for p in s.payments] == [D("30000.00"), D("1500.00"), D("-2000.00")]
    assert (s.period_value, s.period_paid) == (D("56800.00"), D("29500.00"))
    assert s.closing_balance == D("34800.00")  # 7,500 + 56,800 - 29,500
    # In date order: 5 Mar -30,000; 10 Mar +26,600; 12 Mar +15,000; 20 Mar +15,200; 25 Mar -1,500; 28 Mar +2,000.
    assert [(e.kind, e.balance) for e in s.entries] == [
        ("payment", D("-22500.00")), ("batch", D("4100.00")), ("batch", D("19100.00")),
        ("batch", D("34300.00")), ("payment", D("32800.00")), ("payment", D("34800.00")),
    ]
    assert s.entries[0].day == dt.date(2026, 3, 5)
    assert s.batches[0].intake_date.utcoffset() == dt.timedelta(hours=2)  # shown in the company's time


def test_statement_marks_unpriced_and_rejected_batches(acme, march):
    with acme:
        c = grower_statement(march.c, *MARCH)
        b = grower_statement(march.b, *MARCH)

    assert [(x.batch_code, x.unpriced, x.value) for x in c.batches] == [
        (march.c1.batch_code, True, None), (march.c2.batch_code, False, D("17500.00")),
        (march.c3.batch_code, True, None),
    ]
    assert c.batches[2].prices == {"class1": D("8.0000"), "class2": None}  # class2 is the missing price
    assert (c.unpriced_batches, c.period_value, c.closing_balance) == (2, D("17500.00"), D("17500.00"))
    rejected = b.batches[1]
    assert (rejected.priced_by, rejected.value, rejected.unpriced) == ("rejected", D("0.00"), False)
    assert b.closing_balance == D("100.00")  # 17,500 - 17,400


def test_statement_boundaries_and_opening_follow_local_days(acme, march):
    with acme:
        s = grower_statement(march.f, *MARCH)

    # F1 (28 Feb 23:30 local) is opening; F2 and F3 are the period; F4 (1 Apr 00:30 local) is neither.
    assert s.opening_value == D("17500.00")
    assert [b.batch_code for b in s.batches] == [march.f2.batch_code, march.f3.batch_code]
    assert s.closing_balance == D("17500.00")  # 17,500 + 35,000 - 35,000


def test_statement_and_report_agree(acme, march):
    with acme:
        report = {row.grower_id: row for row in reconcile(*MARCH).rows}
        for grower in (march.a, march.b, march.c, march.e, march.f):
            s = grower_statement(grower, *MARCH)
            assert s.period_value == report[grower.pk].expected_value
            assert s.period_paid == report[grower.pk].total_paid
            assert s.unpriced_batches == report[grower.pk].unpriced_batches


def test_statement_of_a_grower_without_activity(acme, march):
    with acme:
        s = grower_statement(march.d, *MARCH)

    # D's 10 Feb batch is opening value (17,500); its 10 April payment is after the period.
    assert (s.opening_balance, s.batches, s.payments, s.closing_balance) == (D("17500.00"), [], [], D("17500.00"))
    assert s.entries == []


def test_statement_refuses_a_backwards_period(acme, march):
    with acme, pytest.raises(ValidationError) as caught:
        grower_statement(march.a, MARCH[1], MARCH[0])

    assert "to" in caught.value.message_dict
