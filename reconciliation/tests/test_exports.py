"""CSV of the report and of a grower statement."""

import csv
import io
from decimal import Decimal as D

import pytest

from growers import services as grower_services
from reconciliation.exports import (
    reconciliation_csv,
    reconciliation_filename,
    statement_csv,
    statement_filename,
)
from reconciliation.report import grower_statement, reconcile

from .conftest import MARCH

pytestmark = pytest.mark.django_db


def parse(lines):
    return list(csv.reader(io.StringIO("".join(lines))))


def test_report_csv_has_every_row_and_the_totals(acme, march):
    with acme:
        report = reconcile(*MARCH)
    lines = reconciliation_csv(report)

    assert not isinstance(lines, list)  # a stream of lines, for StreamingHttpResponse
    rows = parse(lines)
    assert rows[0][:3] == ["Grower code", "Grower", "Batches"]
    assert [row[0] for row in rows[1:]] == ["GA01", "GB01", "GC01", "GE01", "GF01", "Total"]
    ga01 = dict(zip(rows[0], rows[1], strict=True))
    assert ga01 == {
        "Grower code": "GA01", "Grower": "Farm GA01", "Batches": "3", "Rejected batches": "0",
        "Unpriced batches": "0", "Net kg": "10500.00", "Packed kg": "5900.00", "Expected value": "56800.00",
        "Advances": "30000.00", "Finals": "0.00", "Deductions": "1500.00", "Adjustments": "-2000.00",
        "Total paid": "29500.00", "Balance": "27300.00", "Variance %": "48.06", "Flagged": "yes",
    }
    assert dict(zip(rows[0], rows[4], strict=True))["Variance %"] == ""  # GE01: nothing expected
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert (total["Expected value"], total["Balance"], total["Flagged"]) == ("126800.00", "43900.00", "3")
    assert reconciliation_filename(report) == "reconciliation_20260301_20260331.csv"


def test_a_name_that_looks_like_a_formula_is_defused(acme, march):
    with acme:
        grower_services.update_grower(march.a, name="=HYPERLINK(\"http://evil\")")
        rows = parse(reconciliation_csv(reconcile(*MARCH)))

    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1][11] == "-2000.00"  # a negative number is left alone


def test_statement_csv(acme, march):
    with acme:
        statement = grower_statement(march.a, *MARCH)
    rows = parse(statement_csv(statement))

    assert rows[0] == ["Date", "Type", "Reference", "Description", "Net kg", "Value", "Paid", "Balance due"]
    assert rows[1] == ["2026-03-01", "opening", "", "Opening balance, GA01 Farm GA01", "", "17500.00", "10000.00",
                       "7500.00"]
    assert [(r[1], r[5], r[6], r[7]) for r in rows[2:-1]] == [
        ("payment", "", "30000.00", "-22500.00"),
        ("batch", "26600.00", "", "4100.00"),
        ("batch", "15000.00", "", "19100.00"),
        ("batch", "15200.00", "", "34300.00"),
        ("payment", "", "1500.00", "32800.00"),
        ("payment", "", "-2000.00", "34800.00"),
    ]
    assert rows[3][2] == march.a1.batch_code and rows[3][3] == "PH1 Apple Gala" and rows[3][4] == "3500.00"
    assert rows[-1] == ["2026-03-31", "closing", "", "Closing balance due", "", "56800.00", "29500.00", "34800.00"]
    assert statement_filename(statement) == "statement_GA01_20260301_20260331.csv"


def test_statement_csv_marks_unpriced_batches(acme, march):
    with acme:
        rows = parse(statement_csv(grower_statement(march.c, *MARCH)))

    pear = rows[2]
    assert pear[3] == "PH1 Pear Forelle UNPRICED" and pear[5] == ""
    assert rows[-1][-1] == str(D("17500.00"))
