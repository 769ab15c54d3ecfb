"""Realistic demo data for one company: packhouses, growers and their farms and blocks, seasons, spray
clearances, a QC defect catalogue, prices, a year of batches (with bins and QC inspections), and payments.

`manage.py seed_demo` is the way in; `Seeder` does the work. Small things go
through the services (packhouses, growers, seasons, price agreements).
Farms, blocks and clearances are bulk-created (`orchards`), checked by the
models' validators. Batches, their history, bins and inspections are far too
many for the services: `bulk.BatchLoader` COPYs them, with the codes,
counters and history payloads of batches.records, the helpers the services
use. Payments are one bulk INSERT (`Seeder.add_payments`).

Idempotent: a company that already has the requested number of batches gets
none; one with fewer gets only the missing ones. Packhouses, growers and
price agreements are made only when their code (or fruit, variety and grade)
is missing. Payments are made for the fruit a run adds, so a run that adds
no batches adds no payments either.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from random import Random
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import FINANCE
from batches.models import Batch
from core.cache import bump
from growers.models import FruitType, Grower
from growers.services import create_grower
from packhouses.models import Packhouse
from packhouses.services import create_packhouse
from payments.models import GrowerPayment, PaymentType, PriceAgreement
from payments.services import create_price_agreement
from reconciliation.services import bulk_batch_load
from tenants.models import MrlGate

from .bulk import BatchLoader
from .errors import SeedError
from .orchards import FarmBuilder, ensure_clearances, ensure_defect_types, ensure_seasons, valid_ggn
from .pallets import PalletLoader
from .payment_plan import money, plan_payments
from .pools import PoolSeeder
from .reference import (
    CLASS1_PRICE,
    FARM_NAMES,
    FARM_SUFFIXES,
    FIRST_NAMES,
    FRUIT_REGIONS,
    GRADE_FACTOR,
    GRADES,
    MID_SEASON_CHANGE,
    MOBILE_PREFIXES,
    PACKHOUSE_SITES,
    SURNAMES,
    VARIETY_PREMIUM,
)
from .season import SEASON_DAYS, GrowerPlan

MAX_PACKHOUSES = 99
MAX_GROWERS = 99_999
MAX_BATCHES = 10_000_000
MAX_PAYMENTS = 1_000_000


@dataclass
class SeedOptions:
    schema: str = "demo"
    batches: int = 20_000
    growers: int = 120
    packhouses: int = 3
    payments: int | None = None  # None: about two per grower per month of deliveries
    seed: int | None = None


@dataclass
class SeedReport:
    packhouses_created: int = 0
    packhouses_total: int = 0
    growers_created: int = 0
    growers_total: int = 0
    prices_created: int = 0
    prices_total: int = 0
    seasons_created: int = 0
    farms_created: int = 0
    blocks_created: int = 0
    clearances_created: int = 0
    defect_types_created: int = 0
    batches_before: int = 0
    batches_created: int = 0
    history_created: int = 0
    bins_created: int = 0
    inspections_created: int = 0
    uncleared_created: int = 0
    payments_created: int = 0
    rooms_created: int = 0
    pallets_created: int = 0
    pallet_lines_created: int = 0
    loads_created: int = 0
    pools_created: int = 0
    pools_closed: int = 0
    charge_rules_created: int = 0
    pool_income_created: int = 0
    pool_advances_created: int = 0
    payments_by_type: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def batches_total(self):
        return self.batches_before + self.batches_created


def validate_options(opts):
    """Every refusal for the counts, as one message each (the schema is checked by the caller)."""
    problems = []
    limits = [
        ("batches", 0, MAX_BATCHES), ("growers", 1, MAX_GROWERS), ("packhouses", 1, MAX_PACKHOUSES),
        ("payments", 0, MAX_PAYMENTS),
    ]
    for name, low, high in limits:
        value = getattr(opts, name)
        if value is None:
            continue
        if value < low or value > high:
            problems.append(f"--{name} must be between {low:_} and {high:_}, not {value}.".replace("_", " "))
    if opts.seed is not None and opts.seed < 0:
        problems.append(f"--seed must be 0 or more, not {opts.seed}.")
    return problems


class Seeder:
    def __init__(self, company, opts: SeedOptions, *, out=None, progress=True, verbosity=1):
        self.company = company
        self.opts = opts
        self.out = out or (lambda line: None)
        self.progress = progress and verbosity >= 1
        self.rng = Random(opts.seed)
        self.tz = ZoneInfo(company.time_zone or settings.DEFAULT_TIME_ZONE)
        self.now = timezone.now().replace(microsecond=0)
        self.now_epoch = int(self.now.timestamp())
        self.today = self.now.astimezone(self.tz).date()
        self.season_start = self.today - timedelta(days=SEASON_DAYS - 1)
        self.price_from = self.season_start.replace(day=1)
        middle = self.season_start + timedelta(days=SEASON_DAYS // 2)
        self.price_change = middle.replace(day=1)
        self.mrl_gate = getattr(company, "mrl_gate", MrlGate.WARN)
        self.qc_required = getattr(company, "qc_required", False)
        self.report = SeedReport()

    # --- Entry point ------------------------------------------------------

    def run(self):
        started = timezone.now()
        with transaction.atomic():
            packhouses = self.ensure_packhouses()
            growers = self.ensure_growers(packhouses)
            self.ensure_prices()
            orchards = self.ensure_orchards(growers)
            existing = Batch.objects.count()
            self.report.batches_before = existing
            missing = max(0, self.opts.batches - existing)
            pools = PoolSeeder(self)
            if missing:
                with bulk_batch_load():
                    values = BatchLoader(self, packhouses, growers, orchards).add(missing)
                # Advances against the pools first: the plan pays the rest of the fruit's value.
                self.add_payments(values, growers, advanced=pools.prepare(advances=True))
                bump("batches")
            else:
                pools.prepare(advances=False)
            PalletLoader(self, packhouses).run(BatchLoader.users())
            pools.finish()
            self.out("Committing (PostgreSQL checks the new rows' foreign keys now)...")
        if self.report.batches_created or self.report.pallets_created:
            self.refresh_and_analyze()
        self.report.payments_by_type = dict(
            Counter(GrowerPayment.objects.values_list("payment_type", flat=True))
        )
        self.report.seconds = (timezone.now() - started).total_seconds()
        return self.report

    def run_pools(self):
        """Only the pools, on a company seeded before: `seed_demo --only pools` (no batches re-seeded)."""
        started = timezone.now()
        with transaction.atomic():
            PoolSeeder(self).run()
            self.out("Committing...")
        self.report.batches_before = Batch.objects.count()
        self.report.seconds = (timezone.now() - started).total_seconds()
        return self.report

    # --- Small things, through the services ----------------------------------

    def ensure_packhouses(self):
        existing = {p.code: p for p in Packhouse.objects.filter(code__in=self._packhouse_codes())}
        result = []
        for number, code in enumerate(self._packhouse_codes(), start=1):
            packhouse = existing.get(code)
            if packhouse is None:
                name, region = PACKHOUSE_SITES[(number - 1) % len(PACKHOUSE_SITES)]
                if number > len(PACKHOUSE_SITES):
                    name = f"{name} {number // len(PACKHOUSE_SITES) + 1}"
                packhouse = create_packhouse(code=code, name=name, region=region)
                self.report.packhouses_created += 1
            result.append(packhouse)
        self.report.packhouses_total = Packhouse.objects.count()
        self.out(f"Packhouses: {len(result)} used, {self.report.packhouses_created} new.")
        return result

    def _packhouse_codes(self):
        return [f"PH{number}" for number in range(1, self.opts.packhouses + 1)]

    def ensure_growers(self, packhouses):
        """G0001.. with farm names, contacts and regions; each grows one to three fruits."""
        codes = [f"G{number:04d}" for number in range(1, self.opts.growers + 1)]
        existing = {g.code: g for g in Grower.objects.filter(code__in=codes)}
        # Per-grower traits come from their own generator, so they stay put when the run's seed changes.
        used_ggns = set(Grower.objects.exclude(ggn="").values_list("ggn", flat=True))
        fruits = list(FruitType.values)
        plans = []
        for number, code in enumerate(codes, start=1):
            rng = Random(f"grower-{code}")
            primary = fruits[(number - 1) % len(fruits)]
            grown = [primary]
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                extra = rng.choice(fruits)
                if extra not in grown:
                    grown.append(extra)
            grower = existing.get(code)
            if grower is None:
                grower = create_grower(code=code, **self._grower_fields(number, primary, rng, used_ggns))
                self.report.growers_created += 1
            plans.append(GrowerPlan(
                id=grower.pk, code=grower.code, index=number, active=grower.active, region=grower.region,
                home=(number - 1) % len(packhouses), fruits=tuple(grown),
                size=min(rng.paretovariate(1.4), 12.0),
                bin_tare=rng.choice((3800, 4000, 4200, 4500, 5200, 5500, 5800, 6000)),
                quality=rng.uniform(0.60, 0.86),
            ))
        self._cover_every_fruit(plans)
        self.report.growers_total = Grower.objects.count()
        self.out(f"Growers: {len(plans)} used, {self.report.growers_created} new.")
        return plans

    @staticmethod
    def _grower_fields(number, primary, rng, used_ggns):
        farm = FARM_NAMES[(number - 1) % len(FARM_NAMES)]
        suffix = FARM_SUFFIXES[((number - 1) // len(FARM_NAMES)) % len(FARM_SUFFIXES)]
        name = f"{farm} {suffix}"
        if number > len(FARM_NAMES) * len(FARM_SUFFIXES):
            name = f"{name} {number}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        slug = "".join(ch for ch in farm.lower().replace("ô", "o") if ch.isalnum())
        if suffix != FARM_SUFFIXES[0]:
            slug += "-" + suffix.split()[0].lower()
        ggn = ""
        if rng.random() < 0.7:
            ggn = valid_ggn(rng)
            while ggn in used_ggns:
                ggn = valid_ggn(rng)
            used_ggns.add(ggn)
        return {
            "name": name,
            "contact_name": f"{first} {last}",
            "email": f"{first.lower()}@{slug}.co.za",
            "phone": f"+27 {rng.choice(MOBILE_PREFIXES)} {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}",
            "region": rng.choice(FRUIT_REGIONS[primary]),
            "ggn": ggn,
            # A few growers have stopped delivering: G0009, G0034, ... (one in 25).
            "active": number % 25 != 9,
        }

    @staticmethod
    def _cover_every_fruit(plans):
        """Every fruit needs an active grower (for recent intake) when any grower is active."""
        active = [plan for plan in plans if plan.active] or plans
        for position, fruit in enumerate(FruitType.values):
            if not any(fruit in plan.fruits for plan in active):
                plan = active[position % len(active)]
                plan.fruits = (*plan.fruits, fruit)

    # --- Where the fruit grows, and what lets it in ---------------------------------

    def ensure_orchards(self, growers):
        """Seasons over the seed's days, farms and blocks, spray clearances and the QC defect catalogue."""
        report = self.report
        seasons, report.seasons_created = ensure_seasons(self.season_start, self.today)
        builder = FarmBuilder(growers, self.today)
        blocks = builder.ensure()
        report.farms_created, report.blocks_created = builder.farms_created, builder.blocks_created
        report.clearances_created, covers = ensure_clearances(blocks, seasons, self.today,
                                                              strict=self.mrl_gate == MrlGate.BLOCK)
        report.defect_types_created, defects = ensure_defect_types()
        self.out(f"Seasons: {', '.join(s.code for s in seasons.seasons)} ({report.seasons_created} new); "
                 f"farms {report.farms_created} new, blocks {report.blocks_created} new ({len(blocks)} used); "
                 f"spray clearances {report.clearances_created} new; defect types {report.defect_types_created} new.")
        # mrl_gate=warn flags fruit received without clearance; block would have refused it (the seed leaves
        # no block uncleared then); off checks nothing.
        return SimpleNamespace(blocks=blocks, seasons=seasons, covers=covers, defects=defects,
                               flag_uncleared=self.mrl_gate == MrlGate.WARN)

    def ensure_prices(self):
        """Blank-variety prices per fruit and grade with one mid-season change, plus a few variety prices.

        A (fruit, variety, grade) that already has any agreement is left alone,
        so a re-run on another day never collides with the no-overlap rule.
        """
        have = set(PriceAgreement.objects.values_list("fruit_type", "variety", "grade").distinct())
        first_to = self.price_change - timedelta(days=1)
        for fruit in FruitType.values:
            for grade in GRADES:
                if (fruit, "", grade) in have:
                    continue
                price = Decimal(CLASS1_PRICE[fruit]) * Decimal(GRADE_FACTOR[grade])
                changed = price * Decimal(MID_SEASON_CHANGE[fruit])
                create_price_agreement(
                    fruit_type=fruit, grade=grade, valid_from=self.price_from, valid_to=first_to,
                    price_per_kg=money(price), notes="Season opening price.",
                )
                create_price_agreement(
                    fruit_type=fruit, grade=grade, valid_from=self.price_change, price_per_kg=money(changed),
                    notes="Mid-season price review.",
                )
                self.report.prices_created += 2
        for fruit, variety, premium in VARIETY_PREMIUM:
            for grade in GRADES:
                if (fruit, variety, grade) in have:
                    continue
                price = Decimal(CLASS1_PRICE[fruit]) * Decimal(GRADE_FACTOR[grade]) * Decimal(premium)
                create_price_agreement(
                    fruit_type=fruit, variety=variety, grade=grade, valid_from=self.price_from,
                    price_per_kg=money(price), notes=f"{variety} programme price.",
                )
                self.report.prices_created += 1
        self.report.prices_total = PriceAgreement.objects.count()
        self.out(f"Price agreements: {self.report.prices_total}, {self.report.prices_created} new.")

    # --- Payments, in bulk ------------------------------------------------------

    def add_payments(self, values, growers, advanced=None):
        """Advances and finals for the value delivered this run; some growers under-, some over-paid.

        Written in one bulk INSERT rather than through record_payment, which
        costs about 30 queries a payment (some 25 ms): the plan obeys the
        service's rules by construction (positive amounts, paid dates up to
        today, references unique), and they are checked here once more.
        """
        values = self._less_advanced(values, growers, advanced or {})
        planned = plan_payments(self.rng, values, growers, self.opts.payments, self.today)
        planned.sort(key=lambda p: (p["paid_date"], growers[p["grower"]].code, p["order"]))
        number = GrowerPayment.objects.count()
        finance = User.objects.filter(groups__name=FINANCE, is_active=True).order_by("pk").first()
        rows = []
        for payment in planned:
            number += 1
            prefix = "DED" if payment["payment_type"] == PaymentType.DEDUCTION else "EFT"
            paid_date = payment["paid_date"]
            if payment["amount"] <= 0 or paid_date > self.today:
                raise SeedError(f"Bad payment plan (a bug): {payment}")
            entered = datetime.combine(paid_date, time(9), self.tz) + timedelta(seconds=self.rng.randrange(7 * 3600))
            rows.append(GrowerPayment(
                grower_id=growers[payment["grower"]].id, payment_type=payment["payment_type"],
                amount=payment["amount"], reference=f"{prefix}-{paid_date:%Y%m%d}-{number:06d}",
                paid_date=paid_date, notes=payment["notes"], created_by=finance,
                created_at=min(entered, self.now),
            ))
        taken = GrowerPayment.objects.filter(reference__in=[row.reference for row in rows]).values_list(
            "reference", flat=True)[:3]
        if taken:
            raise SeedError(f"Payment references already used, nothing was written: {', '.join(taken)}.")
        GrowerPayment.objects.bulk_create(rows, batch_size=5000)
        if rows:
            bump("payments")
        self.report.payments_created = len(rows)
        self.out(f"Payments: {len(rows)} recorded for the fruit added.")

    @staticmethod
    def _less_advanced(values, growers, advanced):
        """Each grower's deliveries of a season, scaled down by what was advanced against that season's pools.

        `advanced`: {(grower id, season): amount}. The plan then pays the rest of each season's value.
        """
        scaled = {g: dict(days) for g, days in values.items()}
        by_id = {growers[g].id: g for g in values}
        for (grower_id, season), amount in advanced.items():
            days = scaled.get(by_id.get(grower_id), {})
            held = [day for day in days if season.start_date <= day <= season.end_date]
            total = sum(days[day] for day in held)
            factor = max(0.0, 1 - float(amount) / total) if total else 1.0
            for day in held:
                days[day] *= factor
        return scaled

    def refresh_and_analyze(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('daily_grower_intake') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("REFRESH MATERIALIZED VIEW daily_grower_intake")
            for table in ("packhouses", "growers", "farms", "blocks", "seasons", "spray_clearances", "batches",
                          "batch_history", "batch_bins", "qc_inspections", "qc_defects", "defect_types",
                          "batch_code_counters", "price_agreements", "grower_payments", "batch_day_totals",
                          "rooms", "pallets", "pallet_lines", "pallet_history", "loads", "load_pallets"):
                cursor.execute(f"ANALYZE {table}")

