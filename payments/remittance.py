"""A remittance advice as a grower reads it: on a page, as a PDF (WeasyPrint) and as CSV.

Every figure comes from the advice's stored breakdown, never from the pool now: the document stays what was
posted. Rates are shown to RATE_PLACES; values were computed from the exact rate, and the gross rounded once.
"""

from decimal import Decimal

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from core.numbers import format_number
from pallets.models import Grade
from pools.models import ChargeBasis, ChargeKind

RATE_PLACES = 4
QUANTITY_PLACES = {ChargeBasis.PER_CARTON: 0, ChargeBasis.PER_PALLET: 4}


def _decimal(text):
    return None if text is None else Decimal(text)


def grade_lines(breakdown):
    return [{"grade": Grade(line["grade"]).label, "kg": Decimal(line["kg"]), "rate": _decimal(line["rate"]),
             "value": Decimal(line["value"])}
            for line in breakdown["grades"] if Decimal(line["kg"])]


def charge_lines(breakdown):
    lines = []
    for line in breakdown["charges"]:
        basis = line["basis"]
        quantity = Decimal(line["quantity"])
        lines.append({
            "name": line["name"], "kind": ChargeKind(line["kind"]).label, "basis": ChargeBasis(basis).label,
            "basis_code": basis, "rate": Decimal(line["rate"]), "quantity": quantity,
            "quantity_text": format_number(quantity, QUANTITY_PLACES.get(basis, 2)),
            "percent": basis == ChargeBasis.PERCENT_OF_INCOME, "amount": Decimal(line["amount"]),
        })
    return lines


def context(advice):
    breakdown = advice.breakdown
    return {
        "advice": advice, "grades": grade_lines(breakdown), "charges": charge_lines(breakdown),
        "net_kg": Decimal(breakdown["net_kg"]), "batches": breakdown["batches"], "rate_places": RATE_PLACES,
    }


STYLESHEET = "css/remittance.css"


def refuse_fetch(url, *args, **kwargs):
    """The PDF is made of the page and its stylesheet only: no request leaves the server while rendering."""
    raise ValueError(f"a remittance advice PDF fetches nothing ({url})")


def pdf(advice, request):
    """The printable page, laid out for A4 by its stylesheet's @page rule, as PDF bytes."""
    from weasyprint import CSS, HTML  # imported here: loading pango costs a moment only a PDF should pay

    html = render_to_string("payments/remittances/document.html", {**context(advice), "pdf": True}, request)
    return HTML(string=html, url_fetcher=refuse_fetch).write_pdf(
        stylesheets=[CSS(filename=finders.find(STYLESHEET))])


CSV_HEADER = ["number", "grower", "pool", "paid_date", "section", "item", "basis", "quantity", "rate", "amount"]


def csv_rows(advice):
    """One row per figure, with a plain decimal point: grades (kg × rate = value), charges, totals.

    Amounts are as printed (all positive); final = gross − charges − already_paid.
    """
    head = [advice.display_number, advice.grower.code, advice.pool.code, advice.paid_date.isoformat()]
    for line in grade_lines(advice.breakdown):
        yield [*head, "grade", line["grade"], "kg", line["kg"], line["rate"], line["value"]]
    for line in charge_lines(advice.breakdown):
        yield [*head, "charge", line["name"], line["basis_code"], line["quantity"], line["rate"], line["amount"]]
    for name in ("gross", "charges", "already_paid", "final"):
        yield [*head, "total", name, "", "", "", getattr(advice, name)]
