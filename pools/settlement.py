"""What each grower of a pool is owed, exactly as DESIGN.md "Pools and settlement" says.

Per grade g: rate(g) = income(g) / Σ class-g kg of the pool's batches. Per grower:
- gross = Σ_g the grower's class-g kg × rate(g), rounded to cents once (ROUND_HALF_UP);
- each charge rule rounded to cents (ROUND_HALF_UP): per_kg_received × net kg, per_kg_packed × class 1–3 kg,
  per_carton × cartons on pallets, per_pallet × Σ over pallets of (the grower's kg on it / the pallet's kg),
  percent_of_income × gross / 100;
- already paid = the grower's payments against the pool, deductions excepted (a deduction is a charge withheld,
  already counted as a charge), read from grower_payments by name: payments sits above pools (docs/SETTLEMENT.md);
- final = gross − Σ charges − already paid.

Intermediate figures keep full Decimal precision (kg × income / kg, never a rounded rate); only the figures a
grower is paid are rounded. Rejected batches carry no value and no charges. Every line keeps the numbers it came
from, for the remittance advice of a later payment run. A fixed number of queries, whatever the growers.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from batches.models import Status
from growers.models import Grower
from pallets.models import Grade

from .membership import member_batches
from .models import ChargeBasis, ChargeRule, PoolIncome

CENT = Decimal("0.01")
ZERO = Decimal("0")
ZERO_KG = Decimal("0.00")
GRADES = tuple(Grade.values)  # class1, class2, class3
# Enough significant digits that a share or a grade's value is exact to far below a cent on any pool.
PRECISION = 40


def to_cents(amount):
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class GradeRate:
    """A grade's pool rate: income / kg. `rate` is None while the grade has no kg (income waits for fruit)."""

    grade: str
    income: Decimal
    kg: Decimal
    rate: Decimal | None


@dataclass(frozen=True)
class GradeLine:
    grade: str
    kg: Decimal
    rate: Decimal | None
    value: Decimal  # kg × rate, unrounded: the gross is rounded once over the grades


@dataclass(frozen=True)
class ChargeLine:
    rule_id: int
    name: str
    kind: str
    basis: str
    rate: Decimal
    quantity: Decimal  # kg, cartons, pallets (a sum of shares) or the gross, by basis
    amount: Decimal  # rate × quantity (÷ 100 for a percentage), rounded to cents


@dataclass
class GrowerSettlement:
    grower_id: int
    grower_code: str
    grower_name: str
    batches: int
    net_kg: Decimal
    grades: list[GradeLine]
    gross: Decimal
    charges: list[ChargeLine]
    already_paid: Decimal
    cartons: int = 0
    pallets: Decimal = ZERO

    @property
    def packed_kg(self):
        return sum((line.kg for line in self.grades), ZERO_KG)

    @property
    def charges_total(self):
        return sum((line.amount for line in self.charges), ZERO_KG)

    @property
    def final(self):
        return self.gross - self.charges_total - self.already_paid


def income_by_grade(pool):
    rows = PoolIncome.objects.filter(pool=pool).values("grade").annotate(total=Sum("amount"))
    totals = {row["grade"]: row["total"] for row in rows}
    return {grade: totals.get(grade, ZERO_KG) for grade in GRADES}


def grower_quantities(pool):
    """Per grower: batches, net kg and class kg of the pool's batches that carry value (one query)."""
    rows = (member_batches(pool).exclude(status=Status.REJECTED).order_by().values("grower_id")
            .annotate(batches=Count("id"), net_kg=Coalesce(Sum("net_weight_kg"), ZERO_KG),
                      **{grade: Coalesce(Sum(f"{grade}_kg"), ZERO_KG) for grade in GRADES}))
    return {row["grower_id"]: row for row in rows}


def grade_rates(pool, quantities=None, income=None):
    quantities = grower_quantities(pool) if quantities is None else quantities
    income = income_by_grade(pool) if income is None else income
    rates = []
    with localcontext() as context:
        context.prec = PRECISION
        for grade in GRADES:
            kg = sum((row[grade] for row in quantities.values()), ZERO_KG)
            rates.append(GradeRate(grade, income[grade], kg, income[grade] / kg if kg else None))
    return rates


PALLET_SQL = """
WITH members AS ({members}),
lines AS (
    SELECT m.grower_id, l.pallet_id, SUM(l.kg) AS kg, SUM(l.cartons) AS cartons
    FROM pallet_lines l JOIN members m ON m.id = l.batch_id
    GROUP BY m.grower_id, l.pallet_id
),
pallet_totals AS (
    SELECT pallet_id, SUM(kg) AS kg FROM pallet_lines
    WHERE pallet_id IN (SELECT pallet_id FROM lines)
    GROUP BY pallet_id
)
SELECT lines.grower_id, lines.kg, lines.cartons, pallet_totals.kg
FROM lines JOIN pallet_totals USING (pallet_id)
"""


def pallet_quantities(pool):
    """Per grower: cartons on pallets, and Σ over pallets of its kg there / the pallet's kg (one query).

    Each pallet's kg (all its lines, whoever's) comes from the same statement: a list of the pallets' ids sent
    back would be tens of thousands of parameters on a big pool. The shares are divided here, at PRECISION.
    """
    members = member_batches(pool).exclude(status=Status.REJECTED).order_by().values("id", "grower_id")
    sql, params = members.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(PALLET_SQL.format(members=sql), params)
        lines = cursor.fetchall()
    cartons, shares = {}, {}
    with localcontext() as context:
        context.prec = PRECISION
        for grower, kg, line_cartons, pallet_kg in lines:
            cartons[grower] = cartons.get(grower, 0) + line_cartons
            shares[grower] = shares.get(grower, ZERO) + kg / pallet_kg
    return cartons, shares


PAID_SQL = """
SELECT grower_id, SUM(amount) FROM grower_payments
WHERE pool_id = %s AND payment_type <> 'deduction'
GROUP BY grower_id
"""


def already_paid(pool):
    """Per grower, what was paid against the pool: advances, finals and adjustments (reversals net out)."""
    with connection.cursor() as cursor:
        cursor.execute(PAID_SQL, [pool.pk])
        return dict(cursor.fetchall())


def charge_line(rule, grower):
    if rule.basis == ChargeBasis.PER_KG_RECEIVED:
        quantity = grower.net_kg
    elif rule.basis == ChargeBasis.PER_KG_PACKED:
        quantity = grower.packed_kg
    elif rule.basis == ChargeBasis.PER_CARTON:
        quantity = Decimal(grower.cartons)
    elif rule.basis == ChargeBasis.PER_PALLET:
        quantity = grower.pallets
    else:
        quantity = grower.gross
    amount = rule.rate * quantity / (100 if rule.basis == ChargeBasis.PERCENT_OF_INCOME else 1)
    return ChargeLine(rule.pk, rule.name, rule.kind, rule.basis, rule.rate, quantity, to_cents(amount))


def settle(pool, paid=None):
    """Each grower's settlement of `pool`, by grower code. `paid` (grower id → amount) overrides already_paid."""
    return settle_with_rates(pool, paid)[1]


def settle_with_rates(pool, paid=None):
    """(grade rates, settle()): the pool page shows both, and the rates come from settle()'s own quantities."""
    quantities = grower_quantities(pool)
    income = income_by_grade(pool)
    grade_list = grade_rates(pool, quantities, income)
    rates = {rate.grade: rate for rate in grade_list}
    cartons, shares = pallet_quantities(pool)
    paid = already_paid(pool) if paid is None else paid
    rules = list(ChargeRule.objects.filter(pool=pool).order_by("id"))
    growers = Grower.objects.in_bulk(set(quantities) | set(paid))
    settlements = []
    with localcontext() as context:
        context.prec = PRECISION
        for grower_id, grower in growers.items():
            row = quantities.get(grower_id) or {"batches": 0, "net_kg": ZERO_KG, **dict.fromkeys(GRADES, ZERO_KG)}
            lines = []
            for grade in GRADES:
                rate = rates[grade]
                # kg × income / total kg: no rounded rate enters the gross.
                value = row[grade] * rate.income / rate.kg if rate.kg else ZERO
                lines.append(GradeLine(grade, row[grade], rate.rate, value))
            settlement = GrowerSettlement(
                grower_id=grower_id, grower_code=grower.code, grower_name=grower.name, batches=row["batches"],
                net_kg=row["net_kg"], grades=lines, gross=to_cents(sum((line.value for line in lines), ZERO)),
                charges=[], already_paid=paid.get(grower_id, ZERO_KG), cartons=cartons.get(grower_id, 0),
                pallets=shares.get(grower_id, ZERO),
            )
            settlement.charges = [charge_line(rule, settlement) for rule in rules]
            settlements.append(settlement)
    return grade_list, sorted(settlements, key=lambda s: s.grower_code)
