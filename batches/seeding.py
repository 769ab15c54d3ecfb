"""Realistic demo data for one company: packhouses, growers, prices, a season of batches, and payments.

`manage.py seed_demo` is the way in; `Seeder` does the work. Small things go
through the services (packhouses, growers, price agreements). Batches and
their history are far too many for that and are bulk-written with
PostgreSQL COPY, producing exactly the rows the services would have
written (payments are one bulk INSERT, see `Seeder.add_payments`):

- batch codes follow `_next_batch_code` (`PH1-20260212-0042`, numbered per
  packhouse and local intake day in intake order), and the numbers are
  reserved in `batch_code_counters` with the same upsert, so a later
  `record_intake` carries on where the seed stopped;
- every batch has its `created` history row, one `status_changed` row per
  move and a `packout` row when it has a pack-out, all after its intake
  time, and its `version` counts them as the services would have;
- batch ids are reserved from the table's own sequence (`nextval`), history
  ids come from the column default during COPY.

Idempotent: a company that already has the requested number of batches gets
none; one with fewer gets only the missing ones. Packhouses, growers and
price agreements are made only when their code (or fruit, variety and grade)
is missing. Payments are made for the fruit a run adds, so a run that adds
no batches adds no payments either.
"""

import shutil
import sys
import threading
import zlib
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from random import Random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from accounts.roles import CLERK, FINANCE
from core.cache import bump
from growers.models import FruitType, Grower
from growers.services import create_grower
from packhouses.models import Packhouse
from packhouses.services import create_packhouse
from payments.models import GrowerPayment, PaymentType, PriceAgreement
from payments.services import create_price_agreement
from reconciliation.services import bulk_batch_load

from .models import Batch, BatchHistory, Status

CHUNK = 50_000  # batches per COPY round trip (and per counter upsert)
SEASON_DAYS = 365  # today and the 364 days before it, in the company's time zone
RECENT_DAYS = 60  # inactive growers delivered nothing in this many recent days
MAX_PACKHOUSES = 99
MAX_GROWERS = 99_999
MAX_BATCHES = 10_000_000
# Foreign keys are checked at commit (cheapest), but PostgreSQL queues ~15 checks per batch in memory until
# then: a run adding more than this checks them per COPY instead (slower, bounded memory).
CHECK_AT_COMMIT_UP_TO = 2_000_000
MAX_PAYMENTS = 1_000_000

# --- Reference data -----------------------------------------------------------

PACKHOUSE_SITES = [
    ("Elgin Valley Packers", "Elgin Valley"),
    ("Koue Bokkeveld Fruit Packers", "Ceres"),
    ("Olifants River Citrus Packhouse", "Citrusdal"),
    ("Hex River Table Grape Packers", "De Doorns"),
    ("Breede River Deciduous Packhouse", "Wolseley"),
    ("Theewaterskloof Fruit Packers", "Villiersdorp"),
    ("Franschhoek Stone Fruit Packers", "Franschhoek"),
    ("Berg River Fruit Packhouse", "Paarl"),
    ("Clanwilliam Citrus Packers", "Clanwilliam"),
    ("Tulbagh Valley Packhouse", "Tulbagh"),
]

FARM_NAMES = [
    "Boplaas", "Rietvlei", "Waterval", "Welgevonden", "Doornkraal", "Langverwacht", "Kleinfontein",
    "Goedehoop", "Uitkyk", "Bergsig", "Rooiberg", "Klipdrift", "Nooitgedacht", "Vergenoegd", "Eikenhof",
    "Kromrivier", "Dwarsrivier", "Keurboom", "Paardekloof", "Sonskyn", "Blouberg", "Knolfontein",
    "Groenrivier", "Vaalkop", "Hoopsrivier", "Appelkloof", "Perdeberg", "Witzenberg", "Leeuwfontein",
    "Houdconstant", "Kleinvallei", "Olyvenbosch", "Tierhoek", "Vredenhof", "Môrewag", "Swartrivier",
    "Lindeshof", "Palmiet", "Oudebosch", "Rozendal",
]
FARM_SUFFIXES = ["Boerdery", "Farms", "Estate", "Orchards", "Landgoed", "Vrugte", "Trust", "Fruit (Pty) Ltd"]
FIRST_NAMES = [
    "Pieter", "Johan", "Annelie", "Thandi", "Sipho", "Marike", "Francois", "Nomvula", "Gerrit", "Elsabe",
    "Kobus", "Lindiwe", "Hendrik", "Riana", "Themba", "Carel", "Zanele", "Willem", "Anri", "Mandla",
    "Hannes", "Lerato", "Danie", "Karin",
]
SURNAMES = [
    "van der Merwe", "Botha", "du Toit", "Nel", "Smit", "Louw", "Mostert", "Nkosi", "Mokoena", "Dlamini",
    "Jacobs", "Hanekom", "le Roux", "Steyn", "Marais", "Visser", "Pretorius", "Ntuli", "Kruger", "Joubert",
    "Fourie", "Malan",
]
MOBILE_PREFIXES = ["82", "83", "84", "72", "73", "71", "76", "79"]
# Where each fruit is grown, for the grower's region.
FRUIT_REGIONS = {
    FruitType.APPLE: ["Elgin", "Grabouw", "Villiersdorp", "Ceres", "Koue Bokkeveld"],
    FruitType.PEAR: ["Ceres", "Wolseley", "Tulbagh", "Koue Bokkeveld"],
    FruitType.CITRUS: ["Citrusdal", "Clanwilliam", "Sundays River Valley", "Letsitele"],
    FruitType.STONE_FRUIT: ["Wolseley", "Franschhoek", "Robertson", "Porterville"],
    FruitType.GRAPE: ["Hex River Valley", "Paarl", "Wellington", "Orange River"],
    FruitType.AVOCADO: ["Tzaneen", "Levubu", "George"],
    FruitType.KIWIFRUIT: ["Tsitsikamma", "Tzaneen"],
}

# Share of the season's deliveries per fruit.
FRUIT_SHARE = {
    FruitType.APPLE: 28, FruitType.PEAR: 14, FruitType.CITRUS: 24, FruitType.STONE_FRUIT: 10,
    FruitType.GRAPE: 14, FruitType.AVOCADO: 7, FruitType.KIWIFRUIT: 3,
}
# (variety, share within the fruit, months of intake) for a southern-hemisphere season.
VARIETIES = {
    FruitType.APPLE: [
        ("Gala", 24, (1, 2, 3)), ("Golden Delicious", 14, (2, 3, 4)), ("Granny Smith", 20, (3, 4, 5)),
        ("Fuji", 12, (3, 4)), ("Pink Lady", 16, (4, 5)), ("Topred", 8, (2, 3)), ("Braeburn", 6, (3, 4)),
    ],
    FruitType.PEAR: [
        ("Packham's Triumph", 35, (2, 3, 4)), ("Forelle", 25, (2, 3, 4)), ("Williams Bon Chretien", 20, (1, 2)),
        ("Abate Fetel", 12, (2, 3)), ("Rosemarie", 8, (1, 2)),
    ],
    FruitType.CITRUS: [
        ("Navel", 25, (5, 6, 7)), ("Valencia", 24, (7, 8, 9, 10)), ("Eureka lemon", 15, (4, 5, 6, 7, 8)),
        ("Nadorcott", 12, (6, 7, 8)), ("Clementine", 10, (4, 5, 6)), ("Star Ruby grapefruit", 8, (4, 5, 6)),
        ("Midknight Valencia", 6, (9, 10, 11)),
    ],
    FruitType.STONE_FRUIT: [
        ("African Delight plum", 16, (12, 1, 2)), ("Laetitia plum", 12, (1, 2)), ("Sapphire plum", 8, (11, 12)),
        ("Fortune plum", 10, (1, 2, 3)), ("Bulida apricot", 14, (11, 12)), ("Transvalia peach", 12, (12, 1)),
        ("Alpine nectarine", 14, (11, 12)), ("August Red nectarine", 14, (1, 2)),
    ],
    FruitType.GRAPE: [
        ("Crimson Seedless", 30, (2, 3, 4)), ("Thompson Seedless", 20, (12, 1, 2)), ("Prime", 10, (11, 12)),
        ("Red Globe", 14, (1, 2, 3)), ("Sugraone", 8, (11, 12)), ("Autumn Royal", 8, (2, 3, 4)),
        ("Sweet Celebration", 10, (1, 2, 3)),
    ],
    FruitType.AVOCADO: [
        ("Hass", 60, (5, 6, 7, 8, 9, 10)), ("Fuerte", 25, (3, 4, 5, 6)), ("Pinkerton", 10, (5, 6, 7, 8)),
        ("Ryan", 5, (8, 9, 10)),
    ],
    FruitType.KIWIFRUIT: [("Hayward", 100, (3, 4, 5))],
}

GRADES = ("class1", "class2", "class3", "ungraded")
# Class 1 price per kg (ZAR) for the first half of the season, and the mid-season change.
CLASS1_PRICE = {
    FruitType.APPLE: "7.20", FruitType.PEAR: "7.80", FruitType.CITRUS: "6.40", FruitType.STONE_FRUIT: "13.50",
    FruitType.GRAPE: "19.00", FruitType.AVOCADO: "24.00", FruitType.KIWIFRUIT: "16.00",
}
GRADE_FACTOR = {"class1": "1", "class2": "0.62", "class3": "0.22", "ungraded": "0.55"}
MID_SEASON_CHANGE = {
    FruitType.APPLE: "1.04", FruitType.PEAR: "1.06", FruitType.CITRUS: "0.95", FruitType.STONE_FRUIT: "1.03",
    FruitType.GRAPE: "1.05", FruitType.AVOCADO: "0.96", FruitType.KIWIFRUIT: "1.02",
}
# Varieties priced on their own agreements for the whole season (beating the fruit's blank-variety price).
VARIETY_PREMIUM = [
    (FruitType.APPLE, "Pink Lady", "1.25"), (FruitType.PEAR, "Forelle", "1.15"),
    (FruitType.CITRUS, "Eureka lemon", "1.20"), (FruitType.CITRUS, "Nadorcott", "1.30"),
    (FruitType.GRAPE, "Crimson Seedless", "1.12"), (FruitType.AVOCADO, "Hass", "1.10"),
]

REJECTION_REASONS = [
    "Codling moth damage above tolerance at intake inspection",
    "Fruit fly larvae found in sample",
    "Pulp temperature too high on arrival",
    "Residue test above the export MRL",
    "Bruising above 10% in sampled bins",
    "Sunburn above tolerance",
    "Decay found in sampled bins",
    "Wrong variety on the delivery note",
    "Undersize: below minimum count",
]
BATCH_NOTES = [
    "Driver reported a late pick-up at the farm.",
    "Bins from orchard block 7.",
    "Starch test sample taken.",
    "Two bins damaged in transit.",
    "Delivered in the grower's own bins.",
    "Fruit wet on arrival, rain at harvest.",
    "Second load of the day.",
]
DEDUCTION_NOTES = ["Bin hire", "Transport from farm", "Cold storage levy", "Packing material", "Spray programme"]

# Status mix by age of the batch: (hours, {status: weight}); the first row whose hours exceed the age applies.
STATUS_BY_AGE = [
    (3, {"received": 85, "grading": 12, "rejected": 3}),
    (24, {"received": 45, "grading": 30, "packing": 17, "packed": 6, "rejected": 2}),
    (72, {"received": 8, "grading": 20, "packing": 30, "packed": 38, "dispatched": 2, "rejected": 2}),
    (168, {"received": 1, "grading": 4, "packing": 10, "packed": 45, "dispatched": 38, "rejected": 2}),
    (None, {"packed": 5, "dispatched": 93, "rejected": 2}),
]
BATCH_COLUMNS = (
    "id", "batch_code", "grower_id", "packhouse_id", "fruit_type", "variety", "harvest_date", "intake_date",
    "bin_count", "gross_weight_kg", "tare_weight_kg", "class1_kg", "class2_kg", "class3_kg", "waste_kg",
    "status", "rejection_reason", "notes", "created_by_id", "version", "created_at", "updated_at",
)
HISTORY_COLUMNS = ("batch_id", "event", "from_status", "to_status", "payload", "recorded_at", "recorded_by_id")
CREATED, STATUS_CHANGED, PACKOUT = (BatchHistory.Event.CREATED.value, BatchHistory.Event.STATUS_CHANGED.value,
                                    BatchHistory.Event.PACKOUT.value)
RECEIVED, GRADING, PACKING, PACKED, DISPATCHED, REJECTED = (
    Status.RECEIVED.value, Status.GRADING.value, Status.PACKING.value, Status.PACKED.value,
    Status.DISPATCHED.value, Status.REJECTED.value,
)
CENT = Decimal("0.01")
EPOCH = date(1970, 1, 1)


class SeedError(Exception):
    """The seed cannot go on; nothing was written."""


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
    batches_before: int = 0
    batches_created: int = 0
    history_created: int = 0
    payments_created: int = 0
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


def cents(value):
    """'1234.56' from 123456 (kg or money held as integer hundredths)."""
    return f"{value // 100}.{value % 100:02d}"


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Timestamps:
    """Fast text for timestamptz COPY: UTC epoch seconds to '2026-02-12 07:31:05+00'."""

    def __init__(self):
        self._days = {}

    def __call__(self, epoch):
        day, second = divmod(epoch, 86400)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (EPOCH + timedelta(days=day)).isoformat()
        return f"{text} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+00"


@dataclass
class GrowerPlan:
    id: int
    code: str
    index: int  # 1 for G0001
    active: bool
    home: int  # index of the home packhouse
    fruits: tuple
    size: float
    bin_tare: int  # kg/100 per empty bin
    quality: float  # class 1 share of the graded fruit


class Seeder:
    def __init__(self, company, opts: SeedOptions, *, out=None, progress=True, verbosity=1):
        self.company = company
        self.opts = opts
        self.out = out or (lambda line: None)
        self.progress = progress and verbosity >= 1
        self.verbosity = verbosity
        self.rng = Random(opts.seed)
        self.tz = ZoneInfo(company.time_zone or settings.DEFAULT_TIME_ZONE)
        self.now = timezone.now().replace(microsecond=0)
        self.now_epoch = int(self.now.timestamp())
        self.today = self.now.astimezone(self.tz).date()
        self.season_start = self.today - timedelta(days=SEASON_DAYS - 1)
        self.price_from = self.season_start.replace(day=1)
        middle = self.season_start + timedelta(days=SEASON_DAYS // 2)
        self.price_change = middle.replace(day=1)
        self.report = SeedReport()

    # --- Entry point ------------------------------------------------------

    def run(self):
        started = timezone.now()
        with transaction.atomic():
            packhouses = self.ensure_packhouses()
            growers = self.ensure_growers(packhouses)
            self.ensure_prices()
            existing = Batch.objects.count()
            self.report.batches_before = existing
            missing = max(0, self.opts.batches - existing)
            if missing:
                with bulk_batch_load():
                    values = self.add_batches(missing, packhouses, growers)
                self.add_payments(values, growers)
                bump("batches")
                self.out("Committing (PostgreSQL checks the new rows' foreign keys now)...")
        if self.report.batches_created:
            self.refresh_and_analyze()
        self.report.payments_by_type = dict(
            Counter(GrowerPayment.objects.values_list("payment_type", flat=True))
        )
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
                id=grower.pk, code=grower.code, index=number, active=grower.active,
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
            ggn = f"40{rng.randrange(10**10, 10**11)}"
            while ggn in used_ggns:
                ggn = f"40{rng.randrange(10**10, 10**11)}"
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

    # --- Batches, bulk --------------------------------------------------------

    def add_batches(self, count, packhouses, growers):
        """COPY `count` batches and their history. Returns {grower index: {local day: value}} for payments.

        A pipeline over chunks of whole days: while a worker thread COPYs
        chunk n on this connection, this thread formats chunk n+1 (PostgreSQL
        and Python each get a core). The connection is used by one thread at
        a time: the counters and ids of the next chunk are taken between two
        COPYs.
        """
        plan = _SeasonPlan(self, growers)
        chunks = _chunks(plan.sample_days(count), CHUNK)
        users = self._users()
        prices = _PriceBook()
        values = defaultdict(lambda: defaultdict(float))
        self.out(f"Batches: {self.report.batches_before} exist, adding {count}...")
        # The size from shutil: a terminal that reports 0 x 0 (some CI runners) would hide tqdm's bar.
        size = shutil.get_terminal_size((100, 24))
        bar = tqdm(total=count, unit=" batches", file=sys.stderr, disable=None if self.progress else True,
                   mininterval=0.5, ncols=min(size.columns, 120), nrows=size.lines)
        if count > CHECK_AT_COMMIT_UP_TO:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        copier = _Copier()
        with bar:
            try:
                rows, ids = self._reserve(plan.chunk_batches(next(chunks, ())), packhouses)
                while rows:
                    lines = self._lines(rows, ids, packhouses, growers, users, prices, values, plan)
                    following = plan.chunk_batches(next(chunks, ()))
                    self._written(copier.wait(), bar, count)
                    rows, ids = self._reserve(following, packhouses)
                    copier.start(*lines)
                self._written(copier.wait(), bar, count)
            finally:
                copier.join()  # never leave a COPY running on the connection, even on Ctrl-C
        self.out(f"Batches: {self.report.batches_created} added with {self.report.history_created} history rows.")
        return values

    def _reserve(self, rows, packhouses):
        """Codes and ids for a chunk: the database work done between two COPYs."""
        if not rows:
            return [], []
        self._number(rows, packhouses)
        return rows, sorted(self._reserve_ids(len(rows)))

    def _written(self, counts, bar, count):
        if counts is None:
            return
        batches, history = counts
        self.report.batches_created += batches
        self.report.history_created += history
        bar.update(batches)
        if bar.disable and self.progress:  # no terminal for the bar: a line per chunk instead
            self.out(f"  {self.report.batches_created} of {count} batches written.")

    def _users(self):
        active = User.objects.filter(is_active=True).order_by("pk")
        clerks = list(active.filter(groups__name=CLERK).values_list("pk", flat=True))
        if not clerks:
            clerks = list(active.values_list("pk", flat=True)[:3])
        return clerks or [None]

    def _number(self, rows, packhouses):
        """Batch codes: reserve each (packhouse, day)'s numbers with the services' counter upsert."""
        rows.sort(key=lambda row: row[0])  # intake time
        wanted = Counter((row[2], row[1]) for row in rows)
        keys = sorted(wanted)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO batch_code_counters (packhouse_id, day, last) "
                "SELECT * FROM unnest(%s::bigint[], %s::date[], %s::integer[]) "
                "ON CONFLICT (packhouse_id, day) DO UPDATE SET last = batch_code_counters.last + EXCLUDED.last "
                "RETURNING packhouse_id, day, last",
                [[packhouses[ph].pk for ph, _ in keys], [day for _, day in keys], [wanted[key] for key in keys]],
            )
            by_pk = {packhouse.pk: index for index, packhouse in enumerate(packhouses)}
            next_number = {(by_pk[pk], day): last - wanted[(by_pk[pk], day)] + 1 for pk, day, last in cursor}
        for row in rows:
            key = (row[2], row[1])
            number = next_number[key]
            next_number[key] = number + 1
            row.append(f"{packhouses[row[2]].code}-{row[1]:%Y%m%d}-{number:04d}")

    def _reserve_ids(self, count):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('batches', 'id')) FROM generate_series(1, %s)", [count],
            )
            return [row[0] for row in cursor.fetchall()]

    def _lines(self, rows, ids, packhouses, growers, users, prices, values, plan):
        """COPY text for one chunk: (batch lines, history lines). Pure Python: no database here."""
        rng = self.rng
        stamp = Timestamps()
        batch_lines = []
        history_lines = []
        for batch_id, row in zip(ids, rows, strict=True):
            intake, day, ph, grower_index, variety_index, harvest, bins, gross, tare, code = row
            grower = growers[grower_index]
            fruit, variety = plan.varieties[variety_index]
            user = users[batch_id % len(users)]
            user_text = "\\N" if user is None else str(user)
            status, steps, packout, reason = _lifecycle(rng, intake, self.now_epoch, gross - tare, grower.quality)
            # The history, in order, each row after the intake.
            created_at = steps[0][0]
            payload = (
                f'{{"batch_code": "{code}", "grower": "{grower.code}", "packhouse": "{packhouses[ph].code}", '
                f'"bin_count": {bins}, "gross_weight_kg": "{cents(gross)}", "tare_weight_kg": "{cents(tare)}"}}'
            )
            history_lines.append(f"{batch_id}\t{CREATED}\t\t{RECEIVED}\t{payload}\t{stamp(created_at)}\t{user_text}\n")
            for moment, event, from_status, to_status, extra in steps[1:]:
                if event == PACKOUT:
                    extra = (
                        f'{{"class1_kg": "{cents(packout[0])}", "class2_kg": "{cents(packout[1])}", '
                        f'"class3_kg": "{cents(packout[2])}", "waste_kg": "{cents(packout[3])}"}}'
                    )
                history_lines.append(
                    f"{batch_id}\t{event}\t{from_status}\t{to_status}\t{extra}\t{stamp(moment)}\t{user_text}\n"
                )
            notes = rng.choice(BATCH_NOTES) if rng.random() < 0.03 else ""
            if packout:
                c1, c2, c3, waste = (cents(kg) for kg in packout)
            else:
                c1 = c2 = c3 = waste = "\\N"
            batch_lines.append(
                f"{batch_id}\t{code}\t{grower.id}\t{packhouses[ph].pk}\t{fruit}\t{variety}\t{harvest.isoformat()}\t"
                f"{stamp(intake)}\t{bins}\t{cents(gross)}\t{cents(tare)}\t{c1}\t{c2}\t{c3}\t{waste}\t{status}\t"
                f"{reason}\t{notes}\t{user_text}\t{len(steps)}\t{stamp(created_at)}\t{stamp(steps[-1][0])}\n"
            )
            if status != REJECTED:
                values[grower_index][day] += prices.value(fruit, variety, day, gross - tare, packout)
        return batch_lines, history_lines

    # --- Payments, in bulk ------------------------------------------------------

    def add_payments(self, values, growers):
        """Advances and finals for the value delivered this run; some growers under-, some over-paid.

        Written in one bulk INSERT rather than through record_payment, which
        costs about 30 queries a payment (some 25 ms): the plan obeys the
        service's rules by construction (positive amounts, paid dates up to
        today, references unique), and they are checked here once more.
        """
        planned = _plan_payments(self.rng, values, growers, self.opts.payments, self.today)
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

    def refresh_and_analyze(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('daily_grower_intake') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("REFRESH MATERIALIZED VIEW daily_grower_intake")
            for table in ("packhouses", "growers", "batches", "batch_history", "batch_code_counters",
                          "price_agreements", "grower_payments", "batch_day_totals"):
                cursor.execute(f"ANALYZE {table}")


class _Copier:
    """Runs the COPY of one chunk (batches, then their history) in a worker thread.

    It uses psycopg's connection under Django's, in the same transaction and
    session, so the search_path django-tenants set applies; `start` first
    takes a Django cursor so that the SET has been issued.
    """

    def __init__(self):
        self.thread = None
        self.result = None
        self.error = None

    def start(self, batch_lines, history_lines):
        with connection.cursor():
            pass  # django-tenants issues SET search_path when a cursor is taken
        raw = connection.connection

        def work():
            try:
                with raw.cursor() as cursor:
                    _copy_lines(cursor, "batches", BATCH_COLUMNS, batch_lines)
                    _copy_lines(cursor, "batch_history", HISTORY_COLUMNS, history_lines)
                self.result = (len(batch_lines), len(history_lines))
            except BaseException as exc:  # handed to the main thread by wait()
                self.error = exc

        self.thread = threading.Thread(target=work, name="seed-demo-copy", daemon=True)
        self.thread.start()

    def join(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None

    def wait(self):
        """The (batches, history rows) of the COPY just finished, or None; its error is raised here."""
        self.join()
        error, self.error = self.error, None
        if error is not None:
            raise error
        result, self.result = self.result, None
        return result


def _copy_lines(cursor, table, columns, lines, block=20_000):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(lines), block):
            copy.write("".join(lines[start:start + block]))


def _chunks(days, size):
    """Groups of whole days, about `size` batches each (a day is never split)."""
    chunk, total = [], 0
    for day, count in days:
        chunk.append((day, count))
        total += count
        if total >= size:
            yield chunk
            chunk, total = [], 0
    if chunk:
        yield chunk


def _pick(rng, items, cum):
    return items[bisect_right(cum, rng.random() * cum[-1])]


class _SeasonPlan:
    """When fruit arrives, which variety, from whom, at which packhouse, and how much."""

    def __init__(self, seeder, growers):
        self.rng = seeder.rng
        self.tz = seeder.tz
        self.today = seeder.today
        self.now_epoch = seeder.now_epoch
        self.packhouse_count = seeder.opts.packhouses
        self.growers = growers
        self.days = [seeder.season_start + timedelta(days=n) for n in range(SEASON_DAYS)]
        self.varieties = [(fruit, name) for fruit, rows in VARIETIES.items() for name, _, _ in rows]
        in_season_days = Counter()
        for day in self.days:
            in_season_days[day.month] += 1
        # Weight per day of each variety, so that each variety gets its share over its months.
        self.month_varieties = defaultdict(lambda: ([], []))
        for index, (fruit, name) in enumerate(self.varieties):
            share, months = next((s, m) for n, s, m in VARIETIES[fruit] if n == name)
            total_share = sum(s for _, s, _ in VARIETIES[fruit])
            days_in_season = sum(in_season_days[m] for m in months)
            per_day = FRUIT_SHARE[fruit] * share / total_share / days_in_season
            for month in months:
                items, weights = self.month_varieties[month]
                items.append(index)
                weights.append(per_day)
        self.month_cum = {m: (items, list(accumulate(w))) for m, (items, w) in self.month_varieties.items()}
        # Growers per fruit, by size; recent days only from active growers.
        self.fruit_growers = {}
        for fruit in FruitType.values:
            for recent in (False, True):
                pool = [(i, g.size) for i, g in enumerate(growers) if fruit in g.fruits and (g.active or not recent)]
                if not pool:
                    pool = [(i, g.size) for i, g in enumerate(growers) if fruit in g.fruits]
                self.fruit_growers[(fruit, recent)] = ([i for i, _ in pool], list(accumulate(s for _, s in pool)))
        self.working_day = (6 * 3600, 18 * 3600)

    def _utc_base(self, day):
        """Epoch of the local midnight of `day`, using the offset at noon (DST changes happen at night)."""
        offset = self.tz.utcoffset(datetime(day.year, day.month, day.day, 12))
        return (day - EPOCH).days * 86400 - int(offset.total_seconds())

    def _day_window(self, day):
        start, end = self.working_day
        if day == self.today:
            end = min(end, self.now_epoch - 300 - self._utc_base(day))
        return start, end

    def sample_days(self, count):
        """[(day, batches)] in date order: more on weekdays and in the busy months."""
        weights = []
        for day in self.days:
            weight = sum(self.month_varieties[day.month][1]) * (0.25, 1, 1, 1, 1, 1, 0.6)[day.isoweekday() % 7]
            start, end = self._day_window(day)
            if end <= start:
                weight = 0
            elif day == self.today:
                weight *= (end - start) / (self.working_day[1] - self.working_day[0])
            weights.append(weight)
        picked = Counter(self.rng.choices(range(len(self.days)), weights=weights, k=count))
        return [(self.days[i], picked[i]) for i in sorted(picked)]

    def chunk_batches(self, days):
        return [row for day, count in days for row in self.day_batches(day, count)]

    def day_batches(self, day, count):
        """[intake epoch, local day, packhouse, grower, variety, harvest day, bins, gross, tare] per batch."""
        rng = self.rng
        base = self._utc_base(day)
        start, end = self._day_window(day)
        mode = min(start + 3 * 3600, end)  # deliveries peak mid-morning
        items, cum = self.month_cum[day.month]
        recent = (self.today - day).days < RECENT_DAYS
        rows = []
        for _ in range(count):
            variety = _pick(rng, items, cum)
            fruit = self.varieties[variety][0]
            candidates, grower_cum = self.fruit_growers[(fruit, recent)]
            grower_index = _pick(rng, candidates, grower_cum)
            grower = self.growers[grower_index]
            packhouse = grower.home if rng.random() < 0.8 else rng.randrange(self.packhouse_count)
            intake = base + int(rng.triangular(start, end, mode))
            bins = int(rng.triangular(5, 41, 12))
            gross = int(bins * rng.uniform(350, 450)) * 100  # whole kg off the weighbridge
            tare = bins * grower.bin_tare
            back = rng.random()
            harvest = day - timedelta(days=0 if back < 0.6 else 1 if back < 0.9 else 2 if back < 0.97 else 3)
            rows.append([intake, day, packhouse, grower_index, variety, harvest, bins, gross, tare])
        return rows


_STATUS_TABLES = [
    (hours * 3600 if hours else None, list(table), list(accumulate(table.values())))
    for hours, table in STATUS_BY_AGE
]
HOUR = 3600


def _status_for_age(rng, age):
    for limit, statuses, cum in _STATUS_TABLES:
        if limit is None or age < limit:
            return _pick(rng, statuses, cum)
    raise AssertionError("unreachable")


def _lifecycle(rng, intake, now, net, quality):
    """(status, steps, packout, reason).

    Steps are (epoch, event, from, to, payload) from 'created' on, each after
    the one before and none later than a minute ago; the pack-out is in kg/100.
    """
    age = now - intake
    status = _status_for_age(rng, age)
    # Offsets from the intake, in seconds, as they would naturally fall.
    steps = [(rng.randint(5, 120), CREATED, "", RECEIVED, "")]
    clock = steps[0][0]

    def step(low, high, event, from_status="", to_status="", payload="{}"):
        nonlocal clock
        clock += rng.randint(low, high)
        steps.append((clock, event, from_status, to_status, payload))

    packout, reason = None, ""
    if status == REJECTED:
        reason = rng.choice(REJECTION_REASONS)
        if rng.random() < 0.5:
            step(20 * 60, 4 * HOUR, STATUS_CHANGED, RECEIVED, REJECTED, f'{{"reason": "{reason}"}}')
        else:
            step(HOUR, 20 * HOUR, STATUS_CHANGED, RECEIVED, GRADING)
            step(30 * 60, 8 * HOUR, STATUS_CHANGED, GRADING, REJECTED, f'{{"reason": "{reason}"}}')
    elif status != RECEIVED:
        step(HOUR, 20 * HOUR, STATUS_CHANGED, RECEIVED, GRADING)
        with_packout = status in (PACKED, DISPATCHED) or rng.random() < (0.2 if status == GRADING else 0.7)
        if status == GRADING and with_packout:
            step(30 * 60, 6 * HOUR, PACKOUT)
        if status != GRADING:
            step(HOUR, 24 * HOUR, STATUS_CHANGED, GRADING, PACKING)
            if with_packout:
                step(HOUR, 8 * HOUR, PACKOUT)
        if status in (PACKED, DISPATCHED):
            step(10 * 60, 3 * HOUR, STATUS_CHANGED, PACKING, PACKED)
        if status == DISPATCHED:
            step(20 * HOUR, 10 * 24 * HOUR, STATUS_CHANGED, PACKED, DISPATCHED)
        if with_packout:
            packout = _packout(rng, net, quality)
    # A recent batch has had less time: squeeze its steps into the time since intake.
    room = age - 60
    if clock > room:
        scale = max(room, len(steps)) / clock
        squeezed, last = [], 0
        for offset, *rest in steps:
            last = max(last + 1, int(offset * scale))
            squeezed.append((last, *rest))
        steps = squeezed
    return status, [(intake + offset, *rest) for offset, *rest in steps], packout, reason


def _packout(rng, net, quality):
    """(class1, class2, class3, waste) in kg/100, adding up to 94-100% of the net (the rest is shrinkage)."""
    total = int(net * rng.uniform(0.94, 1.0))
    waste = int(total * rng.uniform(0.02, 0.08))
    class3 = int(total * rng.uniform(0.04, 0.12))
    graded = total - waste - class3
    class1 = int(graded * min(0.97, max(0.3, rng.gauss(quality, 0.06))))
    return class1, graded - class1, class3, waste


class _PriceBook:
    """What a batch is worth, by the price agreements in the database (variety beats blank)."""

    def __init__(self):
        self.agreements = defaultdict(list)
        for a in PriceAgreement.objects.all():
            key = (a.fruit_type, a.variety, a.grade)
            self.agreements[key].append((a.valid_from, a.valid_to, float(a.price_per_kg)))
        self.cache = {}

    def _price(self, fruit, variety, grade, day):
        for key in ((fruit, variety, grade), (fruit, "", grade)):
            for valid_from, valid_to, price in self.agreements.get(key, ()):
                if valid_from <= day and (valid_to is None or day <= valid_to):
                    return price
        return None

    def prices(self, fruit, variety, day):
        key = (fruit, variety, day)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = tuple(self._price(fruit, variety, grade, day) for grade in GRADES)
        return found

    def value(self, fruit, variety, day, net, packout):
        class1, class2, class3, ungraded = self.prices(fruit, variety, day)
        if packout is None:
            return net / 100 * (ungraded or 0.0)
        return (packout[0] * (class1 or 0.0) + packout[1] * (class2 or 0.0) + packout[2] * (class3 or 0.0)) / 100


def _pay_factor(grower):
    """How much of the fruit's value a grower is paid: some deliberately under, some over, most about right."""
    rng = Random(zlib.crc32(grower.code.encode()))
    if grower.index % 7 == 3:
        return rng.uniform(0.70, 0.88)  # under-paid
    if grower.index % 7 == 5:
        return rng.uniform(1.10, 1.25)  # over-paid
    return rng.uniform(0.985, 1.005)


def _plan_payments(rng, values, growers, wanted, today):
    """[{grower, payment_type, amount, paid_date, notes, order}] for the value delivered per grower and day."""
    paid = {g: sorted(days.items()) for g, days in values.items() if sum(days.values()) >= 1}
    if not paid:
        return []
    # About two per grower per month of deliveries (an advance and a final), and a deduction for some.
    natural = {}
    for g, days in paid.items():
        months = len({(day.year, day.month) for day, _ in days})
        natural[g] = 2 * months + (1 if growers[g].index % 5 == 0 else 0)
    counts = natural if wanted is None else _apportion(wanted, natural)
    planned = []
    for g, days in paid.items():
        planned.extend(_grower_payments(rng, g, days, counts[g], _pay_factor(growers[g]), today))
    return planned


def _apportion(total, weights):
    """Split `total` over the keys of `weights` in proportion (largest remainder)."""
    whole = sum(weights.values())
    exact = {key: total * weight / whole for key, weight in weights.items()}
    counts = {key: int(value) for key, value in exact.items()}
    left = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:left]:
        counts[key] += 1
    return counts


def _grower_payments(rng, g, days, count, factor, today):
    if count <= 0:
        return []
    if count == 1:
        target = money(sum(v for _, v in days) * factor)
        return [_payment(g, PaymentType.FINAL, target, min(today, days[-1][0] + timedelta(days=30)),
                         f"Final payment for deliveries {days[0][0]:%d %b %Y} to {days[-1][0]:%d %b %Y}.", 0)]
    periods = _periods(days, min(count // 2, len(days)))
    deductions = count - 2 * len(periods)
    planned = []
    for number, period in enumerate(periods):
        first, last = period[0][0], period[-1][0]
        label = f"{first:%d %b} to {last:%d %b %Y}"
        target = money(sum(v for _, v in period) * factor)
        if target < Decimal("20.00"):
            continue
        advance = target * Decimal(str(round(rng.uniform(0.55, 0.70), 2)))
        # Advances are round sums: whole tens of rand once they are over a thousand.
        advance = money((advance / 10).quantize(Decimal("1")) * 10) if advance >= 1000 else money(advance)
        deduction = Decimal(0)
        final_date = min(today, last + timedelta(days=rng.randint(25, 45)))
        share = deductions // len(periods) + (1 if number < deductions % len(periods) else 0)
        for _ in range(share):
            amount = money(target * Decimal(str(round(rng.uniform(0.005, 0.03), 4))))
            if amount > 0:
                deduction += amount
                note = f"{rng.choice(DEDUCTION_NOTES)}, {label}."
                planned.append(_payment(g, PaymentType.DEDUCTION, amount, final_date, note, 3))
        final = target - advance - deduction
        planned.append(_payment(g, PaymentType.ADVANCE, advance, min(today, last + timedelta(days=rng.randint(5, 12))),
                                f"Advance on deliveries {label}.", 1))
        if final > 0:
            planned.append(_payment(g, PaymentType.FINAL, final, final_date, f"Final payment for {label}.", 2))
    return planned


def _periods(days, count):
    """Split the (day, value) list into `count` runs of days, a month each where the count allows."""
    by_month = defaultdict(list)
    for day, value in days:
        by_month[(day.year, day.month)].append((day, value))
    months = [by_month[key] for key in sorted(by_month)]
    if len(months) == count:
        return months
    size, extra = divmod(len(days), count)
    periods, start = [], 0
    for number in range(count):
        end = start + size + (1 if number < extra else 0)
        periods.append(days[start:end])
        start = end
    return [period for period in periods if period]


def _payment(g, payment_type, amount, paid_date, notes, order):
    return {"grower": g, "payment_type": payment_type.value, "amount": amount, "paid_date": paid_date,
            "notes": notes, "order": order}
