"""Where the demo's fruit grows and may come in: seasons, farms, blocks, spray clearances, and the QC catalogue.

Seasons go through the seasons service (a handful). Farms, blocks and
clearances are thousands for a big seed, so they are built here, checked
with the models' own field validators (codes, PUC, the GGN's GS1 check
digit) and written with bulk_create, as the growers services would have
written them; then the cache generation is bumped once.

Idempotent like the rest of the seed: a grower that has demo farms
(`G0019-F1`, ...) gets none; a block and season with a clearance get no
other; the blocks left without a clearance are picked from a hash of the
block's code, so every run leaves the same ones out.
"""

import zlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from random import Random

from stdnum import ean

from batches.models import DefectType
from batches.qc_catalogue import load_default_catalogue
from core.cache import bump
from growers.models import Block, Farm, FruitType, SprayClearance
from seasons.models import Season
from seasons.services import ENDING_SOON_DAYS, create_season

from .reference import (
    FARM_NAMES,
    FARM_PARTS,
    FRUIT_REGIONS,
    GGN_PREFIX,
    MRL_LABS,
    PUC_LETTER,
    VARIETIES,
)

FARMS_PER_GROWER = (2, 4)
BLOCKS_PER_FARM = (3, 12)
# Share of the current season's blocks with no spray clearance (at least MIN_UNCLEARED): the dashboard's
# "received without clearance" list is meant to be short.
UNCLEARED_SHARE = 0.005
MIN_UNCLEARED = 2
FARM_CODE = r"^G[0-9]+-F[0-9]+$"


def valid_ggn(rng):
    """A GlobalG.A.P. number: GlobalG.A.P.'s GS1 prefix, a serial, and the GS1 mod-10 check digit."""
    body = f"{GGN_PREFIX}{rng.randrange(10 ** (12 - len(GGN_PREFIX))):0{12 - len(GGN_PREFIX)}d}"
    return body + ean.calc_check_digit(body)


def _hash(text):
    return zlib.crc32(text.encode())


# --- Seasons -----------------------------------------------------------------


class SeasonBook:
    """The seasons holding the seed's days: local day -> (season id, code)."""

    def __init__(self, first, last):
        self.first, self.last = first, last
        self.seasons = list(Season.objects.filter(start_date__lte=last, end_date__gte=first).order_by("start_date"))
        self._by_day = {}
        for season in self.seasons:
            day = max(season.start_date, first)
            while day <= min(season.end_date, last):
                self._by_day[day] = (season.pk, season.code)
                day += timedelta(days=1)

    def __getitem__(self, day):
        return self._by_day[day]

    def covers(self, first, last):
        return all(first + timedelta(days=n) in self._by_day for n in range((last - first).days + 1))


def ensure_seasons(first, today):
    """Calendar-year seasons ("2026", 1 Jan to 31 Dec), as the data migration makes them, over first..today.

    A year that already holds a season (a manager's own dates) keeps it, and only its days that no season
    covers get one. The season of today must last beyond today: one ending within the dashboard's warning
    days gets the next year's after it, as a manager would add. Returns (SeasonBook, seasons created).
    """
    created = sum(_fill_year(year) for year in range(first.year, today.year + 1))
    current = Season.objects.get(start_date__lte=today, end_date__gte=today)
    if current.end_date <= today + timedelta(days=ENDING_SOON_DAYS):
        created += _fill_year((current.end_date + timedelta(days=1)).year)
    return SeasonBook(first, today), created


def _fill_year(year):
    """Seasons for the days of `year` that no season holds: the whole year as "2026", or its gaps."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    taken = list(Season.objects.filter(start_date__lte=end, end_date__gte=start).order_by("start_date"))
    created = 0
    for gap_start, gap_end in _gaps(start, end, taken):
        whole = (gap_start, gap_end) == (start, end)
        create_season(code=str(year) if whole else f"{year}-{gap_start:%m%d}",
                      name=f"Season {year}" if whole else f"Season {year} from {gap_start:%d %b}",
                      start_date=gap_start, end_date=gap_end)
        created += 1
    return created


def _gaps(start, end, seasons):
    """The runs of days in start..end that none of `seasons` (sorted by start) covers."""
    day = start
    for season in seasons:
        if season.start_date > day:
            yield day, min(end, season.start_date - timedelta(days=1))
        day = max(day, season.end_date + timedelta(days=1))
    if day <= end:
        yield day, end


# --- Farms and blocks ----------------------------------------------------------


@dataclass
class BlockPlan:
    id: int
    label: str  # "G0019-F1/B03", as str(block) and the intake history name it
    grower: int  # index into the seed's growers
    variety: int  # index into SeasonPlan.varieties, None for a variety the seed does not grow
    weight: float  # hectares x grower size: how much fruit it sends
    delivers_recently: bool  # active block, farm and grower


VARIETY_INDEX = {(fruit, name): n for n, (fruit, name) in
                 enumerate((fruit, name) for fruit, rows in VARIETIES.items() for name, _, _ in rows)}


def _pick_variety(rng, fruit):
    rows = VARIETIES[fruit]
    cum, total = [], 0
    for _, share, _ in rows:
        total += share
        cum.append(total)
    return rows[bisect_right(cum, rng.random() * total)][0]


class FarmBuilder:
    """Farms (2 to 4 per grower) and blocks (3 to 12 per farm) for the growers that have none yet."""

    def __init__(self, growers, today):
        self.growers = growers
        self.today = today
        self.farms_created = 0
        self.blocks_created = 0

    def ensure(self):
        """[BlockPlan] of every demo block of the seed's growers (made when missing), every variety covered."""
        by_id = {grower.id: grower for grower in self.growers}
        have = set(Farm.objects.filter(grower_id__in=by_id, code__regex=FARM_CODE).values_list("grower_id", flat=True))
        pucs = set(Farm.objects.exclude(puc="").values_list("puc", flat=True))
        farms, blocks = [], []
        for grower in self.growers:
            if grower.id not in have:
                grower_farms, grower_blocks = self._grower_farms(grower, pucs)
                farms.extend(grower_farms)
                blocks.extend(grower_blocks)
        self._save(farms, blocks)
        plans = self._load()
        missing = self._uncovered(plans)
        if missing:
            self._cover(missing)
            plans = self._load()
        if self.farms_created or self.blocks_created:
            bump("growers")
        return plans

    def _grower_farms(self, grower, pucs):
        """Unsaved farms, and (farm, block) pairs, from the grower's own generator (so a re-seed makes the same)."""
        rng = Random(f"farms-{grower.code}")
        base = FARM_NAMES[(grower.index - 1) % len(FARM_NAMES)]
        parts = rng.sample(FARM_PARTS, FARMS_PER_GROWER[1])
        farms, blocks = [], []
        for n in range(1, rng.randint(*FARMS_PER_GROWER) + 1):
            main = grower.fruits[0] if n == 1 or len(grower.fruits) == 1 else rng.choice(grower.fruits)
            if n == 1:
                name, region = base, grower.region or rng.choice(FRUIT_REGIONS[main])
            else:
                name = f"{base} {parts[n - 2]}" if rng.random() < 0.6 else rng.choice(
                    [other for other in FARM_NAMES if other != base])
                region = grower.region if rng.random() < 0.5 and grower.region else rng.choice(FRUIT_REGIONS[main])
            puc = f"{PUC_LETTER[main]}{(grower.index - 1) * FARMS_PER_GROWER[1] + n:04d}"
            if puc in pucs or rng.random() < 0.1:  # some farms are not registered for export
                puc = ""
            pucs.add(puc)
            farm = Farm(grower_id=grower.id, code=f"{grower.code}-F{n}", name=name, puc=puc,
                        ggn=valid_ggn(rng) if rng.random() < 0.85 else "", region=region, active=grower.active)
            farms.append(farm)
            for b in range(1, rng.randint(*BLOCKS_PER_FARM) + 1):
                fruit = main if rng.random() < 0.75 else rng.choice(grower.fruits)
                blocks.append((farm, self._block(rng, farm, b, fruit, _pick_variety(rng, fruit))))
        return farms, blocks

    def _block(self, rng, farm, number, fruit, variety):
        return Block(code=f"B{number:02d}", fruit_type=fruit, variety=variety,
                     hectares=Decimal(f"{rng.uniform(0.8, 7.5):.2f}"),
                     planted_year=rng.randint(self.today.year - 28, self.today.year - 3), active=farm.active)

    def _save(self, farms, blocks):
        for farm in farms:
            farm.clean_fields(exclude=["grower"])
        Farm.objects.bulk_create(farms, batch_size=2000)
        for farm, block in blocks:
            block.farm_id = farm.pk
            block.clean_fields(exclude=["farm"])
        Block.objects.bulk_create([block for _, block in blocks], batch_size=5000)
        self.farms_created += len(farms)
        self.blocks_created += len(blocks)

    def _load(self):
        index = {grower.id: n for n, grower in enumerate(self.growers)}
        size = {grower.id: grower.size for grower in self.growers}
        rows = (Block.objects.filter(farm__grower_id__in=index, farm__code__regex=FARM_CODE)
                .values_list("id", "farm__code", "code", "fruit_type", "variety", "hectares", "farm__grower_id",
                             "active", "farm__active", "farm__grower__active").order_by("id"))
        return [
            BlockPlan(id=pk, label=f"{farm}/{code}", grower=index[grower],
                      variety=VARIETY_INDEX.get((fruit, variety)), weight=float(hectares or 1) * size[grower],
                      delivers_recently=active and farm_active and grower_active)
            for pk, farm, code, fruit, variety, hectares, grower, active, farm_active, grower_active in rows
        ]

    @staticmethod
    def _uncovered(plans):
        """The varieties no block of an active grower grows: recent intake would have nowhere to come from."""
        covered = {plan.variety for plan in plans if plan.delivers_recently}
        return [key for key, n in VARIETY_INDEX.items() if n not in covered]

    def _cover(self, missing):
        """A block of each missing variety on a farm of an active grower (growing that fruit, if any) with room."""
        active = [grower for grower in self.growers if grower.active]
        if not active:
            return
        farms = {farm.pk: farm for farm in Farm.objects.filter(
            grower_id__in=[grower.id for grower in active], code__regex=FARM_CODE, active=True)}
        blocks = {pk: set() for pk in farms}
        for farm_id, code in Block.objects.filter(farm_id__in=farms).values_list("farm_id", "code"):
            blocks[farm_id].add(code)
        fruits = {grower.id: grower.fruits for grower in active}
        new_blocks = []
        for fruit, variety in missing:
            room = [farm for farm in farms.values() if len(blocks[farm.pk]) < BLOCKS_PER_FARM[1]]
            if not room:
                farm = self._extra_farm(active, farms)
                if farm is None:
                    continue
                self._save([farm], [])
                farms[farm.pk], blocks[farm.pk] = farm, set()
                room = [farm]
            room.sort(key=lambda f: (fruit not in fruits[f.grower_id], len(blocks[f.pk]), f.code))
            farm = room[0]
            number = next(n for n in range(1, 100) if f"B{n:02d}" not in blocks[farm.pk])
            blocks[farm.pk].add(f"B{number:02d}")
            new_blocks.append((farm, self._block(Random(f"{farm.code}-{variety}"), farm, number, fruit, variety)))
        self._save([], new_blocks)

    @staticmethod
    def _extra_farm(active, farms):
        counts = {grower.id: 0 for grower in active}
        for farm in farms.values():
            counts[farm.grower_id] += 1
        grower = next((g for g in active if counts[g.id] < FARMS_PER_GROWER[1]), None)
        if grower is None:
            return None
        base = FARM_NAMES[(grower.index - 1) % len(FARM_NAMES)]
        n = counts[grower.id] + 1
        while Farm.objects.filter(code=f"{grower.code}-F{n}").exists():
            n += 1
        return Farm(grower_id=grower.id, code=f"{grower.code}-F{n}", name=f"{base} {FARM_PARTS[n % len(FARM_PARTS)]}",
                    region=grower.region, active=True)


# --- Spray clearances -----------------------------------------------------------


def ensure_clearances(blocks, book, today, strict):
    """A clearance per block and season of the seed's days, but for a few blocks of the current season.

    `strict` (the company refuses fruit without clearance): none left out. Returns (created, covers), covers
    being {(block id, season id): [(cleared_on, valid_until)]} of every clearance, new or not, so the loader
    can flag batches exactly as the intake service would.
    """
    ids = [block.id for block in blocks]
    have = {}
    for block_id, season_id, cleared_on, valid_until in SprayClearance.objects.filter(
            block_id__in=ids, season_id__in=[s.pk for s in book.seasons]).values_list(
            "block_id", "season_id", "cleared_on", "valid_until"):
        have.setdefault((block_id, season_id), []).append((cleared_on, valid_until))
    current = next((s for s in book.seasons if s.start_date <= today <= s.end_date), None)
    left_out = set()
    if current is not None and not strict and blocks:
        ranked = sorted(blocks, key=lambda block: _hash(f"clearance-{block.label}-{current.code}"))
        uncleared = [block for block in ranked if block.delivers_recently and block.variety is not None]
        count = max(MIN_UNCLEARED, round(len(uncleared) * UNCLEARED_SHARE))
        left_out = {(block.id, current.pk) for block in uncleared[:count]}
    rows = []
    for season in book.seasons:
        first_day = max(season.start_date, book.first)
        for block in blocks:
            key = (block.id, season.pk)
            if key in have or key in left_out:
                continue
            rng = Random(f"clearance-{block.label}-{season.code}")
            # Tested before the first picking of the season (or of the seed's days), valid for the season.
            cleared_on = max(season.start_date, first_day - timedelta(days=rng.randint(3, 30)))
            lab = rng.choice(MRL_LABS)
            rows.append(SprayClearance(
                block_id=block.id, season_id=season.pk, cleared_on=cleared_on,
                lab_reference=f"{lab}-{season.code}-{rng.randrange(1, 100000):05d}",
            ))
            have.setdefault(key, []).append((cleared_on, None))
    SprayClearance.objects.bulk_create(rows, batch_size=5000)
    if rows:
        bump("growers")
    return len(rows), have


def covered(covers, block_id, season_id, day):
    """clearance_for's rule, on the loaded clearances."""
    return any(cleared_on <= day and (valid_until is None or day <= valid_until)
               for cleared_on, valid_until in covers.get((block_id, season_id), ()))


# --- QC catalogue -----------------------------------------------------------------


def ensure_defect_types():
    """The company's defect catalogue: the app's default one (batches.qc_catalogue).

    Returns (added, {fruit: [(id, code, name)]}) with the defects each fruit may show (its own and the
    any-fruit ones), active only.
    """
    added = len(load_default_catalogue() or ())
    by_fruit = {fruit: [] for fruit in FruitType.values}
    for pk, code, name, fruit in DefectType.objects.filter(active=True).order_by("code").values_list(
            "id", "code", "name", "fruit_type"):
        for key in ([fruit] if fruit else FruitType.values):
            if key in by_fruit:
                by_fruit[key].append((pk, code, name))
    return added, by_fruit

