"""The season's generators: when fruit arrives, from whom and where, and what happens to each batch after.

Pure Python on the seeder's random generator; nothing here touches the database.
"""

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate

from batches.models import BatchHistory, Status

from .reference import FRUIT_SHARE, REJECTION_REASONS, STATUS_BY_AGE, VARIETIES

SEASON_DAYS = 365  # today and the 364 days before it, in the company's time zone
RECENT_DAYS = 60  # inactive growers delivered nothing in this many recent days
CREATED, STATUS_CHANGED, PACKOUT, QC = (
    BatchHistory.Event.CREATED.value, BatchHistory.Event.STATUS_CHANGED.value, BatchHistory.Event.PACKOUT.value,
    BatchHistory.Event.QC.value,
)
RECEIVED, GRADING, PACKING, PACKED, DISPATCHED, REJECTED = (
    Status.RECEIVED.value, Status.GRADING.value, Status.PACKING.value, Status.PACKED.value,
    Status.DISPATCHED.value, Status.REJECTED.value,
)
EPOCH = date(1970, 1, 1)
HOUR = 3600
# Batches whose bins were scanned at intake (the rest only counted): more in the last weeks, since the
# packhouses put in scanners, so the open batches have bins to search for.
BIN_SCAN_SHARE, RECENT_BIN_SCAN_SHARE, RECENT_SCAN_DAYS = 0.2, 0.6, 14
QC_SHARE = 0.1  # batches sampled by QC (all of them when the company requires QC before grading)


@dataclass
class GrowerPlan:
    id: int
    code: str
    index: int  # 1 for G0001
    active: bool
    region: str
    home: int  # index of the home packhouse
    fruits: tuple
    size: float
    bin_tare: int  # kg/100 per empty bin
    quality: float  # class 1 share of the graded fruit


def day_chunks(days, size):
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


class SeasonPlan:
    """When fruit arrives, which variety, from which block, at which packhouse, and how much."""

    def __init__(self, seeder, growers, blocks):
        self.rng = seeder.rng
        self.tz = seeder.tz
        self.today = seeder.today
        self.now_epoch = seeder.now_epoch
        self.packhouse_count = seeder.opts.packhouses
        self.growers = growers
        self.blocks = blocks
        self.qc_share = 1.0 if seeder.qc_required else QC_SHARE
        self.days = [seeder.season_start + timedelta(days=n) for n in range(SEASON_DAYS)]
        self.varieties = [(fruit, name) for fruit, rows in VARIETIES.items() for name, _, _ in rows]
        in_season_days = Counter()
        for day in self.days:
            in_season_days[day.month] += 1
        # Blocks per variety, by size; recent days only from blocks that still deliver (active grower and farm).
        self.variety_blocks = {}
        for index in range(len(self.varieties)):
            for recent in (False, True):
                pool = [(n, b.weight) for n, b in enumerate(blocks)
                        if b.variety == index and (b.delivers_recently or not recent)]
                if not pool:
                    pool = [(n, b.weight) for n, b in enumerate(blocks) if b.variety == index]
                if pool:
                    self.variety_blocks[(index, recent)] = ([n for n, _ in pool], list(accumulate(w for _, w in pool)))
        # Weight per day of each variety, so that each variety gets its share over its months. A variety that
        # no block grows gets none.
        self.month_varieties = defaultdict(lambda: ([], []))
        for index, (fruit, name) in enumerate(self.varieties):
            if (index, False) not in self.variety_blocks:
                continue
            share, months = next((s, m) for n, s, m in VARIETIES[fruit] if n == name)
            total_share = sum(s for _, s, _ in VARIETIES[fruit])
            days_in_season = sum(in_season_days[m] for m in months)
            per_day = FRUIT_SHARE[fruit] * share / total_share / days_in_season
            for month in months:
                items, weights = self.month_varieties[month]
                items.append(index)
                weights.append(per_day)
        self.month_cum = {m: (items, list(accumulate(w))) for m, (items, w) in self.month_varieties.items()}
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
        """Per batch: [intake epoch, local day, packhouse, grower, variety, harvest day, bins, gross, tare, block,
        QC sampled, bins scanned]."""
        rng = self.rng
        base = self._utc_base(day)
        start, end = self._day_window(day)
        mode = min(start + 3 * 3600, end)  # deliveries peak mid-morning
        items, cum = self.month_cum[day.month]
        blocks, qc_share = self.blocks, self.qc_share
        scan_share = RECENT_BIN_SCAN_SHARE if (self.today - day).days < RECENT_SCAN_DAYS else BIN_SCAN_SHARE
        recent = (self.today - day).days < RECENT_DAYS
        rows = []
        for _ in range(count):
            variety = _pick(rng, items, cum)
            candidates, block_cum = self.variety_blocks[(variety, recent)]
            block = _pick(rng, candidates, block_cum)
            grower_index = blocks[block].grower
            grower = self.growers[grower_index]
            packhouse = grower.home if rng.random() < 0.8 else rng.randrange(self.packhouse_count)
            intake = base + int(rng.triangular(start, end, mode))
            bins = int(rng.triangular(5, 41, 12))
            gross = int(bins * rng.uniform(350, 450)) * 100  # whole kg off the weighbridge
            tare = bins * grower.bin_tare
            back = rng.random()
            harvest = day - timedelta(days=0 if back < 0.6 else 1 if back < 0.9 else 2 if back < 0.97 else 3)
            rows.append([intake, day, packhouse, grower_index, variety, harvest, bins, gross, tare, block,
                         rng.random() < qc_share, rng.random() < scan_share])
        return rows


_STATUS_TABLES = [
    (hours * HOUR if hours else None, list(table), list(accumulate(table.values())))
    for hours, table in STATUS_BY_AGE
]


def _status_for_age(rng, age):
    for limit, statuses, cum in _STATUS_TABLES:
        if limit is None or age < limit:
            return _pick(rng, statuses, cum)
    raise AssertionError("unreachable")


def lifecycle(rng, intake, now, net, quality, inspect=False):
    """(status, steps, packout, reason).

    Steps are (epoch, event, from, to, reason) from 'created' on, each after
    the one before and none later than a minute ago; a step's reason is ""
    except on the move to rejected. The pack-out is in kg/100. `inspect`:
    a QC step follows 'created' while the batch is received; a rejected
    batch it sampled is rejected by that inspection (the move to rejected
    one second after it, its reason for the caller to set from the defects).
    """
    age = now - intake
    status = _status_for_age(rng, age)
    # Offsets from the intake, in seconds, as they would naturally fall.
    steps = [(rng.randint(5, 120), CREATED, "", RECEIVED, "")]
    clock = steps[0][0]

    def step(low, high, event, from_status="", to_status="", why=""):
        nonlocal clock
        clock += rng.randint(low, high)
        steps.append((clock, event, from_status, to_status, why))

    packout, reason = None, ""
    if inspect:
        step(5 * 60, 45 * 60, QC)
    if status == REJECTED:
        reason = rng.choice(REJECTION_REASONS)
        if inspect:
            step(1, 1, STATUS_CHANGED, RECEIVED, REJECTED, reason)
        elif rng.random() < 0.5:
            step(20 * 60, 4 * HOUR, STATUS_CHANGED, RECEIVED, REJECTED, reason)
        else:
            step(HOUR, 20 * HOUR, STATUS_CHANGED, RECEIVED, GRADING)
            step(30 * 60, 8 * HOUR, STATUS_CHANGED, GRADING, REJECTED, reason)
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
    """(class1, class2, class3, waste) in kg/100, adding up to the net, as record_packout requires.

    0-6% of the net is shrinkage (water lost in the cold store before grading); it is booked as waste,
    so every batch's mass balance holds on the trace page.
    """
    graded_total = int(net * rng.uniform(0.94, 1.0))
    waste = int(graded_total * rng.uniform(0.02, 0.08))
    class3 = int(graded_total * rng.uniform(0.04, 0.12))
    graded = graded_total - waste - class3
    class1 = int(graded * min(0.97, max(0.3, rng.gauss(quality, 0.06))))
    return class1, graded - class1, class3, waste + (net - graded_total)

