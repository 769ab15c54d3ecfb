"""The reconciliation report and the grower statement: one function each, behind the API, the pages and CSV.

`reconcile()` runs ONE SQL statement (sql.REPORT) and returns a
`ReconciliationReport`: a page of rows (one per grower) and the totals of
all rows. `grower_statement()` returns a `GrowerStatement` for one grower
and period. Both read the company of the current schema (its time zone,
currency and default thresholds), so call them inside the company's
context: a request on its host, or `tenant_context(company)`.

The rules (valuation, unpriced and rejected batches, which growers appear,
the flag) are in sql.py and docs/RECONCILIATION.md.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from core import periods
from core.tenancy import company_timezone, company_today
from growers.models import FruitType
from payments.models import GrowerPayment
from pools.models import ChargeRule
from pools.settlement import GRADES, PRECISION, GradeLine, GrowerSettlement, charge_line, to_cents
from seasons.services import current_season

from . import sql
from .services import sync_time_zone

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The longest period one report or statement covers: two years (one with a leap day).
MAX_PERIOD_DAYS = 731
# A period with one end given runs 365 days to or from it; with neither given it is the current season, or,
# when the company has no season yet, the 365 days up to today.
DEFAULT_PERIOD_DAYS = 365
PAYMENT_TYPES = ("advance", "final", "deduction", "adjustment")

# ordering= value -> SQL. Ties are broken by grower code, then id, so pages never overlap.
ORDERINGS = {
    "grower_code": "grower_code",
    "grower_name": "grower_name",
    "batches": "batches",
    "net_kg": "net_kg",
    "expected_value": "expected_value",
    "total_paid": "total_paid",
    "balance": "balance",
    "variance_percent": "variance_percent",
    "unpriced_batches": "unpriced_batches",
}
ORDERING_CHOICES = [name for key in ORDERINGS for name in (key, f"-{key}")]


def money(value):
    """A Decimal rounded to cents, half away from zero (as PostgreSQL's round)."""
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --- parameters -------------------------------------------------------------------------


# Where a report's period came from (the API's parameters.period_source).
PERIOD_SOURCES = {
    "given": "from and/or to as given (a missing end 365 days from the other, or today)",
    "season": "the season asked for",
    "current_season": "neither from, to nor season given: the current season",
    "rolling": "neither given and the company has no season yet: the 365 days up to today",
}


@dataclass(frozen=True)
class Period:
    """Local dates, both inclusive, and why they are these."""

    date_from: date
    date_to: date
    source: str  # a key of PERIOD_SOURCES
    season: object = None  # the Season, for "season" and "current_season"

    @property
    def season_code(self):
        return self.season.code if self.season is not None else None


def resolve_period(date_from=None, date_to=None, season=None):
    """The period of a report or statement. A season gives its days; with nothing given, the current season
    (seasons.services.current_season) or, without one, the rolling 365 days up to today. Callers refuse a
    season together with from/to (filters.PeriodForm)."""
    if season is not None:
        return Period(season.start_date, season.end_date, "season", season)
    if date_from is None and date_to is None:
        season = current_season()
        if season is None:
            today = company_today()
            return Period(today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today, "rolling")
        start, end = season.start_date, season.end_date
        if (end - start).days >= MAX_PERIOD_DAYS:
            # A season longer than a report may be: its latest part, so that the default is never refused.
            end = min(end, max(company_today(), start))
            start = max(start, end - timedelta(days=MAX_PERIOD_DAYS - 1))
        return Period(start, end, "current_season", season)
    date_to = date_to or company_today()
    date_from = date_from or date_to - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return Period(date_from, date_to, "given")


def default_period(date_from=None, date_to=None):
    """(from, to) of resolve_period: the current season when neither end is given."""
    period = resolve_period(date_from, date_to)
    return period.date_from, period.date_to


def period_errors(date_from, date_to):
    """Why a period cannot be reported on, per field ({} when it can)."""
    # Outside the sane dates a statement's opening balance ran for minutes (core/periods.py).
    bounds = {name: [message] for name, day in (("from", date_from), ("to", date_to))
              if (message := periods.date_error(day))}
    if bounds:
        return bounds
    if date_from > date_to:
        return {"to": [f"The period ends ({date_to}) before it starts ({date_from})."]}
    days = (date_to - date_from).days + 1
    if days > MAX_PERIOD_DAYS:
        return {"to": [f"The period is {days} days long; at most {MAX_PERIOD_DAYS} days (two years) are allowed."]}
    return {}


def company_thresholds():
    """The company's default (amount, percent)."""
    company = connection.tenant
    amount = getattr(company, "variance_threshold_amount", None)
    percent = getattr(company, "variance_threshold_percent", None)
    # 0 is a setting (flag any difference), not a missing one.
    return (
        Decimal("500.00") if amount is None else amount,
        Decimal("5.00") if percent is None else percent,
    )


def resolve_thresholds(amount=None, percent=None):
    """Neither given: the company's two defaults. One or both given: exactly those (the other rule is off)."""
    if amount is None and percent is None:
        return company_thresholds()
    return amount, percent


def _pk(value):
    return getattr(value, "pk", value)


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconciliationRow:
    """One grower's line. Money in the company's currency, kg in kg, all Decimal."""

    grower_id: int
    grower_code: str
    grower_name: str
    batches: int  # not rejected
    rejected_batches: int
    unpriced_batches: int
    net_kg: Decimal  # of the batches that are not rejected
    packed_kg: Decimal  # classes 1 to 3, same batches
    expected_value: Decimal  # value of the priced batches, rounded to cents once
    paid_advance: Decimal
    paid_final: Decimal
    paid_deduction: Decimal
    paid_adjustment: Decimal
    total_paid: Decimal
    balance: Decimal  # expected_value - total_paid: positive means the grower is still owed money
    variance_percent: Decimal | None  # balance / expected_value x 100, None when expected_value is 0
    flagged: bool


@dataclass(frozen=True)
class ReconciliationTotals:
    """The sums over every row of the report (all pages), and how many rows and flagged rows there are."""

    growers: int
    flagged_growers: int
    batches: int
    rejected_batches: int
    unpriced_batches: int
    net_kg: Decimal
    packed_kg: Decimal
    expected_value: Decimal
    paid_advance: Decimal
    paid_final: Decimal
    paid_deduction: Decimal
    paid_adjustment: Decimal
    total_paid: Decimal
    balance: Decimal
    variance_percent: Decimal | None


@dataclass(frozen=True)
class ReconciliationReport:
    date_from: date
    date_to: date
    time_zone: str
    currency: str
    threshold_amount: Decimal | None
    threshold_percent: Decimal | None
    rows: list[ReconciliationRow]
    totals: ReconciliationTotals
    limit: int | None
    offset: int
    filters: dict = field(default_factory=dict)  # grower, packhouse, fruit_type, flagged, ordering as given
    period_source: str = "given"  # a key of PERIOD_SOURCES
    season: str | None = None  # the code of the season whose days the period is


ROW_FIELDS = [f.name for f in ReconciliationRow.__dataclass_fields__.values()]
TOTAL_FIELDS = [f.name for f in ReconciliationTotals.__dataclass_fields__.values()]


def reconcile(date_from, date_to, *, grower=None, packhouse=None, fruit_type=None, threshold_amount=None,
              threshold_percent=None, flagged=None, ordering="grower_code", limit=None, offset=0, period=None):
    """The reconciliation of the current company for a period (local dates, both inclusive).

    `period`, a resolve_period() result for these dates, only labels the report (its source and season).

    `grower` and `packhouse` are instances or ids; `fruit_type` a FruitType
    value. Thresholds: see `resolve_thresholds`. `flagged` True or False
    keeps only flagged or unflagged rows. `limit` None returns every row.
    One SQL statement; raises ValidationError for bad parameters.
    """
    errors = period_errors(date_from, date_to)
    if fruit_type is not None and fruit_type not in FruitType.values:
        errors["fruit_type"] = [f"'{fruit_type}' is not a fruit type."]
    if ordering not in ORDERING_CHOICES:
        errors["ordering"] = [f"'{ordering}' is not one of: {', '.join(ORDERING_CHOICES)}."]
    threshold_amount, threshold_percent = resolve_thresholds(threshold_amount, threshold_percent)
    for name, value in (("threshold", threshold_amount), ("threshold_percent", threshold_percent)):
        if value is not None and value < 0:
            errors[name] = ["A threshold cannot be negative."]
    if (limit is not None and limit < 1) or offset < 0:
        errors["limit"] = ["limit must be 1 or more and offset 0 or more."]
    if errors:
        raise ValidationError(errors)

    tz = company_timezone().key
    sync_time_zone()
    with connection.cursor() as cursor:
        cursor.execute(*statement(date_from, date_to, grower=grower, packhouse=packhouse, fruit_type=fruit_type,
                                  threshold_amount=threshold_amount, threshold_percent=threshold_percent,
                                  flagged=flagged, ordering=ordering, limit=limit, offset=offset))
        columns = [col.name for col in cursor.description]
        found = [dict(zip(columns, record, strict=True)) for record in cursor.fetchall()]

    rows = [ReconciliationRow(**{name: r[name] for name in ROW_FIELDS}) for r in found if r["kind"] == "row"]
    (total,) = [r for r in found if r["kind"] == "totals"]
    totals = ReconciliationTotals(**{name: total[name] for name in TOTAL_FIELDS})
    company = connection.tenant
    return ReconciliationReport(
        date_from=date_from, date_to=date_to, time_zone=tz,
        currency=getattr(company, "currency", settings.DEFAULT_CURRENCY),
        threshold_amount=threshold_amount, threshold_percent=threshold_percent,
        rows=rows, totals=totals, limit=limit, offset=offset,
        filters={"grower": _pk(grower), "packhouse": _pk(packhouse), "fruit_type": fruit_type,
                 "flagged": flagged, "ordering": ordering},
        period_source=period.source if period else "given", season=period.season_code if period else None,
    )


def statement(date_from, date_to, *, grower=None, packhouse=None, fruit_type=None, threshold_amount=None,
              threshold_percent=None, flagged=None, ordering="grower_code", limit=None, offset=0):
    """The report's SQL and its parameters, for parameters `reconcile` has checked."""
    threshold_amount, threshold_percent = resolve_thresholds(threshold_amount, threshold_percent)
    key = ordering.lstrip("-")
    direction = "DESC NULLS LAST" if ordering.startswith("-") else "ASC NULLS LAST"
    params = {
        "tz": company_timezone().key, "date_from": date_from, "date_to": date_to, "grower": _pk(grower),
        "packhouse": _pk(packhouse), "fruit_type": fruit_type, "threshold_amount": threshold_amount,
        "threshold_percent": threshold_percent, "flagged": flagged, "limit": limit, "offset": offset,
    }
    return sql.REPORT.replace("{order_by}", f"{ORDERINGS[key]} {direction}, grower_code, grower_id"), params


# --- the grower statement ---------------------------------------------------------------


@dataclass(frozen=True)
class StatementBatch:
    batch_id: int
    batch_code: str
    intake_date: datetime  # in the company's time zone
    day: date  # the local intake date
    packhouse_code: str
    fruit_type: str
    variety: str
    status: str
    net_kg: Decimal
    class1_kg: Decimal | None
    class2_kg: Decimal | None
    class3_kg: Decimal | None
    waste_kg: Decimal | None
    priced_by: str  # "packout", "ungraded" or "rejected"
    prices: dict  # grade -> price per kg used (only the grades this batch needs)
    unpriced: bool
    value: Decimal | None  # rounded to cents; None when unpriced; 0 for a rejected batch
    exact_value: Decimal | None  # unrounded, what the totals add up
    pool_id: int = 0  # the closed pool whose rates value it (prices are then the pool's rates), 0 for none
    pool_code: str | None = None


@dataclass(frozen=True)
class StatementPool:
    """The period's batches of one closed pool, valued at its rates: kg and rate per grade, value rounded once."""

    pool_id: int
    pool_code: str
    batches: int
    unpriced_batches: int
    grades: list  # (grade, kg, rate) for the grades with kg
    value: Decimal  # Σ kg × rate of its priced batches, rounded to cents once (settlement's gross for them)


@dataclass(frozen=True)
class StatementEntry:
    """One line of the statement in date order: a batch (value) or a payment (paid), and the balance after it."""

    day: date
    kind: str  # "batch" or "payment"
    reference: str  # batch code or payment reference
    description: str
    value: Decimal | None  # what the batch is worth; None for a payment or an unpriced batch
    paid: Decimal | None  # what the payment settled; None for a batch
    balance: Decimal  # running balance due, after this line


@dataclass(frozen=True)
class GrowerStatement:
    grower: object
    date_from: date
    date_to: date
    time_zone: str
    currency: str
    opening_value: Decimal  # value of all batches before the period, rounded once (and once per closed pool)
    opening_paid: Decimal  # all payments before the period
    opening_balance: Decimal  # opening_value - opening_paid
    opening_unpriced_batches: int  # batches before the period left out of opening_value for want of a price
    batches: list[StatementBatch]
    payments: list[GrowerPayment]
    period_value: Decimal  # value of the period's batches, rounded as the report does (equals its expected_value)
    period_paid: Decimal
    unpriced_batches: int
    closing_balance: Decimal  # opening_balance + period_value - period_paid: still due to the grower
    entries: list[StatementEntry]
    pools: list[StatementPool] = field(default_factory=list)  # the closed pools valuing the period's batches


@dataclass(frozen=True)
class PoolBalance:
    """What the grower is still owed on one closed pool: settlement's final for this grower, by the same rules."""

    pool_id: int
    pool_code: str
    pool_name: str
    settlement: GrowerSettlement

    @property
    def balance(self):
        return self.settlement.final


def exact_by_pool(valued, per_pool=None):
    """Adds (pool id, exact value) pairs into {pool id: exact total}; unpriced (None) values add nothing."""
    per_pool = {} if per_pool is None else per_pool
    for pool_id, exact in valued:
        if exact is not None:
            per_pool[pool_id] = per_pool.get(pool_id, Decimal(0)) + exact
    return per_pool


def rounded_value(valued):
    """Σ of (pool id, exact value) pairs rounded as the report rounds: once over the agreement-priced values
    (pool 0), once per closed pool over the pool-valued ones (so each is that pool's settlement gross)."""
    return _rounded(exact_by_pool(valued))


def _rounded(per_pool):
    return sum((money(total) for total in per_pool.values()), ZERO)


def _statement_pools(batches):
    pools = {}
    for batch in batches:
        if batch.pool_id:
            pools.setdefault(batch.pool_id, []).append(batch)
    summaries = []
    for pool_id, members in pools.items():
        grades = []
        for grade in ("class1", "class2", "class3"):
            kg = sum((getattr(b, f"{grade}_kg") or Decimal(0) for b in members if b.status != "rejected"),
                     Decimal(0))
            rates = {b.prices[grade] for b in members if grade in b.prices}
            if kg:
                grades.append((grade, kg, rates.pop() if rates else None))
        summaries.append(StatementPool(
            pool_id=pool_id, pool_code=members[0].pool_code, batches=len(members),
            unpriced_batches=sum(1 for b in members if b.unpriced),
            grades=grades, value=rounded_value((pool_id, b.exact_value) for b in members),
        ))
    return sorted(summaries, key=lambda p: p.pool_code)


def _priced_by(record):
    if record["status"] == "rejected":
        return "rejected"
    return "packout" if record["packout_class1_kg"] is not None else "ungraded"


def _prices_used(record):
    wanted = {
        "ungraded": record["ungraded_kg"], "class1": record["class1_kg"],
        "class2": record["class2_kg"], "class3": record["class3_kg"],
    }
    return {grade: record[f"{grade}_price"] for grade, kg in wanted.items() if kg > 0}


def grower_statement(grower, date_from, date_to):
    """The statement of one grower for a period (local dates, inclusive): opening, batches, payments, closing.

    Three statements: the opening balance, the period's valued batches, the
    period's payments. Raises ValidationError for a bad period.
    """
    errors = period_errors(date_from, date_to)
    if errors:
        raise ValidationError(errors)
    zone = company_timezone()
    params = {"tz": zone.key, "grower": grower.pk, "date_from": date_from, "date_to": date_to}
    with connection.cursor() as cursor:
        cursor.execute(sql.STATEMENT_OPENING, params)
        opening_exact, opening_pooled, opening_unpriced, opening_paid = cursor.fetchone()
        cursor.execute(sql.STATEMENT_BATCHES, params)
        columns = [col.name for col in cursor.description]
        records = [dict(zip(columns, record, strict=True)) for record in cursor.fetchall()]
    payments = list(
        GrowerPayment.objects.filter(grower=grower, paid_date__gte=date_from, paid_date__lte=date_to)
        .order_by("paid_date", "id")
    )

    batches = [
        StatementBatch(
            batch_id=r["batch_id"], batch_code=r["batch_code"], intake_date=r["intake_date"].astimezone(zone),
            day=r["day"], packhouse_code=r["packhouse_code"], fruit_type=r["fruit_type"], variety=r["variety"],
            status=r["status"], net_kg=r["net_weight_kg"], class1_kg=r["packout_class1_kg"],
            class2_kg=r["packout_class2_kg"], class3_kg=r["packout_class3_kg"], waste_kg=r["waste_kg"],
            priced_by=_priced_by(r), prices=_prices_used(r), unpriced=r["unpriced"],
            value=money(r["value"]), exact_value=r["value"], pool_id=r["pool_id"], pool_code=r["pool_code"],
        )
        for r in records
    ]
    opening_value = money(opening_exact) + opening_pooled
    opening_paid = money(opening_paid)
    opening_balance = opening_value - opening_paid
    period_value = rounded_value((b.pool_id, b.exact_value) for b in batches)
    period_paid = money(sum((p.amount for p in payments), Decimal(0)))
    company = connection.tenant
    return GrowerStatement(
        grower=grower, date_from=date_from, date_to=date_to, time_zone=zone.key,
        currency=getattr(company, "currency", settings.DEFAULT_CURRENCY),
        opening_value=opening_value, opening_paid=opening_paid, opening_balance=opening_balance,
        opening_unpriced_batches=opening_unpriced, batches=batches, payments=payments,
        period_value=period_value, period_paid=period_paid,
        unpriced_batches=sum(1 for b in batches if b.unpriced),
        closing_balance=opening_balance + period_value - period_paid,
        entries=_entries(opening_balance, batches, payments), pools=_statement_pools(batches),
    )


def pool_balances(grower, date_from, date_to):
    """The grower's balance on each closed pool of the seasons that [date_from, date_to] touches.

    Figured as pools.settlement.settle() figures it for this one grower (gross at the pool's rates rounded once,
    each charge rule, already paid without deductions, final), but in three queries whatever the pools: settle()
    works through a whole pool's growers, a statement wants one grower's pools.
    """
    params = {"grower": grower.pk, "date_from": date_from, "date_to": date_to}
    with connection.cursor() as cursor:
        cursor.execute(sql.STATEMENT_POOL_BALANCES, params)
        columns = [col.name for col in cursor.description]
        records = [dict(zip(columns, record, strict=True)) for record in cursor.fetchall()]
        if not records:
            return []
        cursor.execute(sql.STATEMENT_POOL_PALLETS, {"grower": grower.pk, "pools": [r["pool_id"] for r in records]})
        pallet_lines = cursor.fetchall()
    rules = {}
    for rule in ChargeRule.objects.filter(pool_id__in=[r["pool_id"] for r in records]).order_by("id"):
        rules.setdefault(rule.pool_id, []).append(rule)
    balances = []
    with localcontext() as context:
        context.prec = PRECISION
        cartons, shares = {}, {}
        for pool_id, kg, line_cartons, pallet_kg in pallet_lines:
            cartons[pool_id] = cartons.get(pool_id, 0) + line_cartons
            shares[pool_id] = shares.get(pool_id, ZERO) + kg / pallet_kg
        for r in records:
            grades = []
            for grade in GRADES:
                pool_kg, income = r[f"pool_{grade}_kg"], r[f"{grade}_income"]
                # kg × income / the pool's kg, as settle(): no rounded rate enters the gross.
                grades.append(GradeLine(grade, r[f"{grade}_kg"], income / pool_kg if pool_kg else None,
                                        r[f"{grade}_kg"] * income / pool_kg if pool_kg else ZERO))
            settlement = GrowerSettlement(
                grower_id=grower.pk, grower_code=grower.code, grower_name=grower.name, batches=r["batches"],
                net_kg=r["net_kg"], grades=grades, gross=to_cents(sum((g.value for g in grades), ZERO)),
                charges=[], already_paid=r["already_paid"], cartons=cartons.get(r["pool_id"], 0),
                pallets=shares.get(r["pool_id"], ZERO),
            )
            settlement.charges = [charge_line(rule, settlement) for rule in rules.get(r["pool_id"], [])]
            balances.append(PoolBalance(r["pool_id"], r["pool_code"], r["pool_name"], settlement))
    return balances


def _entries(opening_balance, batches, payments):
    """Batches and payments by date (a day's batches before its payments), with the running balance.

    The running value is the sum of the exact values so far, rounded as the
    period's value is (rounded_value), so the last balance is exactly the
    closing balance.
    """
    lines = [(b.day, 0, b.intake_date.timestamp(), b) for b in batches]
    lines += [(p.paid_date, 1, p.pk, p) for p in payments]
    lines.sort(key=lambda line: line[:3])
    per_pool, paid, entries = {}, Decimal(0), []
    for day, kind, _, item in lines:
        if kind == 0:
            exact_by_pool([(item.pool_id, item.exact_value)], per_pool)
            status = "" if item.status != "rejected" else " (rejected)"
            entries.append(StatementEntry(
                day=day, kind="batch", reference=item.batch_code,
                description=f"{FruitType(item.fruit_type).label} {item.variety}, {item.net_kg} kg net{status}"
                            + (", unpriced" if item.unpriced else ""),
                value=item.value, paid=None, balance=opening_balance + _rounded(per_pool) - paid,
            ))
        else:
            paid += item.amount
            entries.append(StatementEntry(
                day=day, kind="payment", reference=item.reference,
                description=item.get_payment_type_display() + (f": {item.notes}" if item.notes else ""),
                value=None, paid=item.amount, balance=opening_balance + _rounded(per_pool) - paid,
            ))
    return entries
