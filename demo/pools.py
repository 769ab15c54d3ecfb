"""Pools for the seeded seasons: per fruit (blank variety) and per programme variety, with charge rules on all
five bases and advances against them; past seasons' pools also get their market income per grade (a reversing
entry or two among it) and are closed.

Pools, charges and income are a few dozen rows, so they go through pools.services (history rows, rules and
cache generations as a finance user's would). Closing goes through services.close_pool, which writes a pool's
batches with one INSERT … SELECT, so a pool of 100,000 batches closes in seconds. Advances are one bulk INSERT,
as Seeder.add_payments writes the other payments: one per grower and pool, checked here as the payment service
would (positive, dated up to today, references unused).

The advances are part of what the fruit is paid, not money on top: Seeder.run writes them before the payment
plan, which then pays each grower the rest of its fruit's value (so reconciliation balances stay as the plan
means them). Idempotent: a pool is made only when its season, fruit and variety have none; a pool gets
charges, income or advances only when it has none of them yet, and a past season's pool is closed only while
open. So it can run on a company seeded before pools existed (`seed_demo --only pools`), without advances
there: that fruit is paid already, and payments are never changed.
"""

import re
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Max, Min

from accounts.models import User
from accounts.roles import FINANCE
from batches.models import Batch
from core.cache import bump
from growers.models import FruitType
from payments.models import GrowerPayment, PaymentType
from pools import services
from pools.models import ChargeBasis, ChargeKind, Pool, PoolStatus
from pools.settlement import GRADES, grower_quantities
from seasons.models import Season

from .errors import SeedError
from .payment_plan import money
from .reference import CLASS1_PRICE, GRADE_FACTOR, VARIETY_PREMIUM

FRUIT_CODES = {
    FruitType.APPLE: "APPLE", FruitType.PEAR: "PEAR", FruitType.CITRUS: "CITRUS", FruitType.STONE_FRUIT: "STONE",
    FruitType.GRAPE: "GRAPE", FruitType.AVOCADO: "AVO", FruitType.KIWIFRUIT: "KIWI",
}
# One rule per basis, at rates a South African packhouse might charge (ZAR).
CHARGES = (
    ("Packing", ChargeKind.PACKING, ChargeBasis.PER_KG_PACKED, "1.10"),
    ("Levy (industry)", ChargeKind.LEVY, ChargeBasis.PER_KG_RECEIVED, "0.045"),
    ("Transport to port", ChargeKind.TRANSPORT, ChargeBasis.PER_CARTON, "2.50"),
    ("Cold storage", ChargeKind.COLD_STORAGE, ChargeBasis.PER_PALLET, "180.00"),
    ("Marketing commission", ChargeKind.COMMISSION, ChargeBasis.PERCENT_OF_INCOME, "7.5"),
)
ADVANCE_SHARE = Decimal("0.40")  # of the fruit's value at market rates, paid as an advance against the pool
MIN_ADVANCE = Decimal("100")
REVERSED_POOLS = 2  # past pools with an income entry typed twice and reversed


def pool_code(season, fruit, variety=""):
    """'2025-APPLE', '2026-APPLE-CRIPPS': at most 20 capital letters, digits and dashes (Pool.code's rule)."""
    code = f"{season.code}-{FRUIT_CODES[fruit]}"
    if variety:
        code += "-" + re.sub(r"[^A-Z0-9]", "", variety.split()[0].upper())[:8]
    return code[:20].rstrip("-")


class PoolSeeder:
    def __init__(self, seeder):
        self.rng = seeder.rng
        self.out = seeder.out
        self.today = seeder.today
        self.report = seeder.report
        self.finance = User.objects.filter(groups__name=FINANCE, is_active=True).order_by("pk").first()

    def run(self):
        """Everything, on a company seeded before (`seed_demo --only pools`): no advances, see prepare()."""
        self.prepare(advances=False)
        self.finish()

    def prepare(self, *, advances):
        """The seasons' pools and their charge rules, and with `advances` an advance per grower and pool that has
        none. Returns {grower id: advances written}: the fruit's payment plan pays the rest of its value
        (Seeder.add_payments), so the advances are not money on top. A company whose fruit was paid already
        gets none: payments are never changed, so they cannot be re-pointed at a pool either. Keyed by
        (grower id, season): the plan pays a season's fruit within the season, and so is an advance paid.
        """
        advanced = {}
        self.pools = []
        for season in Season.objects.filter(start_date__lte=self.today).order_by("start_date"):
            past = season.end_date < self.today
            for number, pool in enumerate(self.ensure_pools(season)):
                if pool.status == PoolStatus.CLOSED:
                    continue
                growers = grower_quantities(pool)
                if not pool.charges.exists():
                    for name, kind, basis, rate in CHARGES:
                        services.add_charge_rule(pool, name=name, kind=kind, basis=basis, rate=Decimal(rate),
                                                 by=self.finance)
                        self.report.charge_rules_created += 1
                rates = self.market_rates(pool)
                days = Batch.objects.filter(season_id=pool.season_id, fruit_type=pool.fruit_type).aggregate(
                    first=Min("intake_date"), last=Max("intake_date"))
                if advances and not pool.payments.exists():
                    for grower_id, amount in self.add_advances(pool, growers, rates, days).items():
                        key = (grower_id, season)
                        advanced[key] = advanced.get(key, Decimal(0)) + amount
                self.pools.append((pool, past, number < REVERSED_POOLS, growers, rates, days))
        return advanced

    def finish(self):
        """A past season's pools: their market income, then the close."""
        for pool, past, reversed_entry, growers, rates, days in self.pools:
            if not past:
                continue
            if not pool.income.exists():
                self.add_income(pool, growers, rates, days, past and reversed_entry)
            try:
                services.close_pool(pool, by=self.finance)
            except ValidationError as exc:
                raise SeedError(f"Pool {pool.code} could not be closed: {' '.join(exc.messages)}") from None
            self.report.pools_closed += 1
            self.out(f"  Pool {pool.code} closed with {pool.memberships.count()} batches of {len(growers)} growers.")
        with connection.cursor() as cursor:
            for table in ("pools", "pool_batches", "pool_income", "charge_rules", "pool_history", "grower_payments"):
                cursor.execute(f"ANALYZE {table}")
        report = self.report
        self.out(f"Pools: {report.pools_created} new, {report.pools_closed} closed; {report.charge_rules_created} "
                 f"charge rules, {report.pool_income_created} income entries, {report.pool_advances_created} "
                 "advances against pools.")

    def ensure_pools(self, season):
        """The season's pools: one per fruit it received (blank variety) and one per programme variety."""
        received = set(Batch.objects.filter(season=season).order_by().values_list("fruit_type", "variety")
                       .distinct())
        wanted = [(fruit, "") for fruit in FruitType.values if any(f == fruit for f, _ in received)]
        wanted += [(fruit, variety) for fruit, variety, _ in VARIETY_PREMIUM if (fruit, variety) in received]
        existing = {(p.fruit_type, p.variety): p for p in Pool.objects.filter(season=season)}
        pools = []
        for fruit, variety in wanted:
            pool = existing.get((fruit, variety))
            if pool is None:
                name = f"{FruitType(fruit).label} {variety or 'all varieties'} {season.code}"
                try:
                    pool = services.create_pool(season=season, code=pool_code(season, fruit, variety), name=name,
                                                fruit_type=fruit, variety=variety, by=self.finance)
                except ValidationError as exc:
                    raise SeedError(f"Pool {pool_code(season, fruit, variety)}: {' '.join(exc.messages)}") from None
                self.report.pools_created += 1
            pools.append(pool)
        return pools

    def market_rates(self, pool):
        """Per grade: what the market paid per kg, around the price agreements (a good or a poor year)."""
        premium = next((Decimal(p) for f, v, p in VARIETY_PREMIUM if (f, v) == (pool.fruit_type, pool.variety)),
                       Decimal(1))
        year = Decimal(str(round(self.rng.uniform(0.90, 1.20), 3)))
        base = Decimal(CLASS1_PRICE[pool.fruit_type]) * premium * year
        return {grade: base * Decimal(GRADE_FACTOR[grade]) for grade in GRADES}

    def add_income(self, pool, growers, rates, days, reversed_entry):
        """Two market returns per grade with kg (60 % then the balance); none on a grade without kg."""
        first_day = min(self.today, days["last"].date() + timedelta(days=21))
        second_day = min(self.today, first_day + timedelta(days=30))
        for grade in GRADES:
            kg = sum((row[grade] for row in growers.values()), Decimal(0))
            if not kg:
                continue
            total = money(kg * rates[grade])
            first = money(total * Decimal("0.6"))
            for number, (amount, day) in enumerate(((first, first_day), (total - first, second_day)), start=1):
                if amount <= 0:
                    continue
                reference = f"MR-{pool.code}-{grade[-1]}{number}"
                services.record_income(pool, grade=grade, amount=amount, received_on=day, reference=reference,
                                       by=self.finance)
                self.report.pool_income_created += 1
            if reversed_entry:
                # Typed twice at the market return's arrival, and reversed the next day, as finance would.
                twice = services.record_income(pool, grade=grade, amount=first, received_on=first_day,
                                               reference=f"MR-{pool.code}-{grade[-1]}1", by=self.finance)
                services.reverse_income(twice, reason="Entered twice.", by=self.finance)
                self.report.pool_income_created += 2
                reversed_entry = False

    def add_advances(self, pool, growers, rates, days):
        """One advance per grower with fruit in the pool: ADVANCE_SHARE of its value at market rates."""
        if days["first"] is None:
            return {}
        paid_date = min(self.today, days["first"].date() + timedelta(days=30), pool.season.end_date)
        rows = []
        for grower_id, row in growers.items():
            value = sum((row[grade] * rates[grade] for grade in GRADES), Decimal(0))
            amount = money(round(value * ADVANCE_SHARE / 100) * 100)
            if amount < MIN_ADVANCE:
                continue
            rows.append(GrowerPayment(
                grower_id=grower_id, payment_type=PaymentType.ADVANCE, amount=amount, pool=pool,
                reference=f"ADV-{pool.code}-{grower_id}", paid_date=paid_date, created_by=self.finance,
                notes=f"Advance against pool {pool.code}.",
            ))
        taken = list(GrowerPayment.objects.filter(reference__in=[r.reference for r in rows])
                     .values_list("reference", flat=True)[:3])
        if taken:
            raise SeedError(f"Payment references already used, nothing was written: {', '.join(taken)}.")
        GrowerPayment.objects.bulk_create(rows, batch_size=5000)
        if rows:
            bump("payments")
        self.report.pool_advances_created += len(rows)
        return {row.grower_id: row.amount for row in rows}
