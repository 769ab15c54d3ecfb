"""Small builders for reconciliation tests, all through the services (call them inside `with acme:`)."""

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection

from batches import services as batch_services
from growers.tests.factories import block_for
from payments import services as payment_services
from reconciliation.report import statement

SAST = ZoneInfo("Africa/Johannesburg")  # acme's time zone: UTC+2 all year
_references = itertools.count(1)


def local(year, month, day, hour=10, minute=0):
    """An aware datetime at this wall-clock time in Johannesburg."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SAST)


def intake(grower, packhouse, when, *, fruit="apple", variety="Gala", gross="4000", tare="500", bins=10):
    """A delivery weighed at `when` (net = gross - tare, 3,500 kg by default)."""
    return batch_services.record_intake(
        block=block_for(grower, fruit, variety), packhouse=packhouse,
        harvest_date=when.astimezone(SAST).date() - dt.timedelta(days=1), bin_count=bins,
        gross_weight_kg=Decimal(gross), tare_weight_kg=Decimal(tare), intake_date=when, confirm_unusual=True,
    )


def packout(batch, class1, class2, class3, waste):
    """Grade the batch and record its pack-out (kg per class)."""
    batch = batch_services.transition(batch, "grading")
    return batch_services.record_packout(
        batch, class1_kg=Decimal(class1), class2_kg=Decimal(class2), class3_kg=Decimal(class3),
        waste_kg=Decimal(waste),
    )


def reject(batch, reason="Fruit fly larvae found in sample"):
    return batch_services.transition(batch, "rejected", reason=reason)


def pay(grower, payment_type, amount, day, notes=""):
    payment = payment_services.record_payment(
        grower=grower, payment_type=payment_type, amount=Decimal(amount), paid_date=day,
        reference=f"REF-{next(_references):05d}", notes=notes,
    )
    return payment


def price(fruit, grade, per_kg, valid_from, valid_to=None, variety=""):
    return payment_services.create_price_agreement(
        fruit_type=fruit, grade=grade, variety=variety, valid_from=valid_from, valid_to=valid_to,
        price_per_kg=Decimal(per_kg),
    )


def explain(date_from, date_to, *, analyze=False, **filters):
    """EXPLAIN of the report's statement with these parameters, as text lines (tests and bench/reconciliation.py)."""
    filters.setdefault("limit", 50)
    query, params = statement(date_from, date_to, **filters)
    options = "ANALYZE, BUFFERS, " if analyze else ""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}COSTS) {query}", params)
        return [line for (line,) in cursor.fetchall()]
