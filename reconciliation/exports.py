"""CSV of the reconciliation report and of a grower statement, as streams of lines.

A page serves them with, for example:

    report = reconcile(**form.report_kwargs())
    response = StreamingHttpResponse(reconciliation_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{reconciliation_filename(report)}"'

Numbers are plain (a dot, no thousands separator, two decimals), dates ISO,
so an accounting package reads them as they are. A text cell that a
spreadsheet would run as a formula (=, +, -, @, tab, CR) is prefixed with
an apostrophe.
"""

import csv
from collections.abc import Iterator
from decimal import Decimal

from core.csv import Echo, safe_cell
from growers.models import FruitType

from .report import CENT, GrowerStatement, ReconciliationReport

REPORT_COLUMNS = [
    ("grower_code", "Grower code"), ("grower_name", "Grower"), ("batches", "Batches"),
    ("rejected_batches", "Rejected batches"), ("unpriced_batches", "Unpriced batches"), ("net_kg", "Net kg"),
    ("packed_kg", "Packed kg"), ("expected_value", "Expected value"), ("paid_advance", "Advances"),
    ("paid_final", "Finals"), ("paid_deduction", "Deductions"), ("paid_adjustment", "Adjustments"),
    ("total_paid", "Total paid"), ("balance", "Balance"), ("variance_percent", "Variance %"),
    ("flagged", "Flagged"),
]


def text(value):
    return safe_cell("" if value is None else str(value))


def number(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    return str(value)


def _cell(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | int) or value is None:
        return number(value)
    return text(value)


def reconciliation_csv(report: ReconciliationReport, *, totals=True) -> Iterator[str]:
    """The report's rows (all of them when it was run without a limit), then a Total line."""
    writer = csv.writer(Echo())
    yield writer.writerow([label for _, label in REPORT_COLUMNS])
    for row in report.rows:
        yield writer.writerow([_cell(getattr(row, name)) for name, _ in REPORT_COLUMNS])
    if totals:
        t = report.totals
        values = {name: getattr(t, name, None) for name, _ in REPORT_COLUMNS}
        values.update(grower_code="Total", grower_name=f"{t.growers} growers", flagged=t.flagged_growers)
        yield writer.writerow([_cell(values[name]) for name, _ in REPORT_COLUMNS])


def reconciliation_filename(report: ReconciliationReport) -> str:
    return f"reconciliation_{report.date_from:%Y%m%d}_{report.date_to:%Y%m%d}.csv"


STATEMENT_COLUMNS = ["Date", "Type", "Reference", "Description", "Net kg", "Value", "Paid", "Balance due"]


def statement_csv(statement: GrowerStatement) -> Iterator[str]:
    """Opening balance, each batch and payment by date with the running balance, closing balance."""
    writer = csv.writer(Echo())
    s = statement
    yield writer.writerow(STATEMENT_COLUMNS)
    yield writer.writerow([
        (s.date_from).isoformat(), "opening", "", text(f"Opening balance, {s.grower.code} {s.grower.name}"),
        "", number(s.opening_value), number(s.opening_paid), number(s.opening_balance),
    ])
    batches = {b.batch_code: b for b in s.batches}
    for entry in s.entries:
        batch = batches.get(entry.reference) if entry.kind == "batch" else None
        description = entry.description
        if batch is not None:
            description = f"{batch.packhouse_code} {FruitType(batch.fruit_type).label} {batch.variety}" + (
                " (rejected)" if batch.status == "rejected" else "") + (" UNPRICED" if batch.unpriced else "")
        yield writer.writerow([
            entry.day.isoformat(), entry.kind, text(entry.reference), text(description),
            number(batch.net_kg) if batch else "", number(entry.value), number(entry.paid), number(entry.balance),
        ])
    yield writer.writerow([
        s.date_to.isoformat(), "closing", "", "Closing balance due", "", number(s.period_value),
        number(s.period_paid), number(s.closing_balance),
    ])


def statement_filename(statement: GrowerStatement) -> str:
    return f"statement_{statement.grower.code}_{statement.date_from:%Y%m%d}_{statement.date_to:%Y%m%d}.csv"
