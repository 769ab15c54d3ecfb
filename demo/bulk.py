"""Batches and their history, bulk-written with PostgreSQL COPY.

Far too many for the services, so the rows are written directly, but from
the helpers the services use (batches.records), so they are exactly the rows
the services would have written:

- batch codes are `records.batch_code` (`PH1-20260212-0042`, numbered per
  packhouse and local intake day in intake order), and the numbers are
  reserved in `batch_code_counters` by `records.reserve_numbers`, so a later
  `record_intake` carries on where the seed stopped;
- every batch has its `created` history row, one `status_changed` row per
  move and a `packout` row when it has a pack-out, all after its intake
  time, with the payloads of the `records` builders (JSON by json.dumps),
  and its `version` counts them as the services would have;
- every batch names its block (grower, fruit and variety are the block's)
  and the season holding its local intake day, and is flagged
  `without_clearance` exactly when record_intake would have flagged it (the
  company's mrl_gate, the block's clearances); its `created` payload names
  them, as record_intake's does;
- a share of batches has scanned bins (`batch_bins`, `open` while the batch
  is received, grading or packing; codes taken in intake order from a ring
  larger than the bins of a week, so no code is in two open batches), and a
  share has a QC inspection with its defects and its `qc` history row (a
  reject rejects the batch, with the top defects as the reason, as
  record_inspection does);
- batch and inspection ids are reserved from the tables' own sequences
  (`nextval`); history, bin and defect ids come from the column default
  during COPY.
"""

import functools
import json
import shutil
import sys
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from tqdm import tqdm

from accounts.models import User
from accounts.roles import CLERK
from batches import records
from batches.models import OPEN_STATUSES, PACKOUT_FIELDS, BatchBin, QCResult

from .orchards import covered
from .payment_plan import PriceBook
from .reference import BATCH_NOTES, QC_BRIX, QC_FIRMNESS, QC_NOTES, QC_SAMPLE_SIZES
from .season import CREATED, EPOCH, PACKOUT, QC, RECEIVED, REJECTED, SeasonPlan, day_chunks, lifecycle

CHUNK = 50_000  # batches per COPY round trip (and per counter upsert)
# Foreign keys of other tables are checked at commit (cheapest), but PostgreSQL queues the checks in memory
# until then: a run adding more than this checks them per COPY instead (slower, bounded memory).
CHECK_AT_COMMIT_UP_TO = 2_000_000
BATCH_COLUMNS = (
    "id", "batch_code", "grower_id", "packhouse_id", "fruit_type", "variety", "harvest_date", "intake_date",
    "bin_count", "gross_weight_kg", "tare_weight_kg", "class1_kg", "class2_kg", "class3_kg", "waste_kg",
    "status", "rejection_reason", "notes", "created_by_id", "version", "created_at", "updated_at",
    "block_id", "season_id", "without_clearance",
)
HISTORY_COLUMNS = ("batch_id", "event", "from_status", "to_status", "payload", "recorded_at", "recorded_by_id")
BIN_COLUMNS = ("batch_id", "code", "open")
INSPECTION_COLUMNS = ("id", "batch_id", "inspected_at", "inspector_id", "sample_size", "brix", "firmness_kg",
                      "result", "notes")
DEFECT_COLUMNS = ("inspection_id", "defect_type_id", "count")
# Tables in the order a chunk is COPYd (each after the rows its foreign keys name).
TABLES = (("batches", BATCH_COLUMNS), ("batch_history", HISTORY_COLUMNS), ("batch_bins", BIN_COLUMNS),
          ("qc_inspections", INSPECTION_COLUMNS), ("qc_defects", DEFECT_COLUMNS))
OPEN = frozenset(status.value for status in OPEN_STATUSES)
OPEN_DAYS = 8  # a batch older than a week is packed, dispatched or rejected (season.STATUS_BY_AGE)
MAX_BINS = 41  # at most, per delivery (season.SeasonPlan.day_batches)
MIN_RING = 2_000  # bins the smallest packhouse owns
NULL = "\\N"


def cents(value):
    """'1234.56' from 123456 (kg held as integer hundredths)."""
    return f"{value // 100}.{value % 100:02d}"


# Only the demo's own texts (varieties, reasons, notes) come here: a few dozen, repeated over a million
# rows, so each is escaped once.
@functools.cache
def copy_text(text):
    """A field in COPY's text format: its backslashes, tabs and line breaks escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# json.dumps without its circular-reference check (a payload is a few flat fields): a million payloads
# take a second less.
_dumps = json.JSONEncoder(check_circular=False).encode


def copy_json(payload):
    """A history payload as a COPY field.

    JSON escapes every control character, so a backslash is the only
    character left that COPY would read specially.
    """
    return _dumps(payload).replace("\\", "\\\\")


@functools.cache
def _status_changed_json(reason):
    return copy_json(records.status_changed_payload(reason))


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


class BinRing:
    """Bin codes (BN0000001..) handed out in intake order, round a ring of the company's bins.

    A code comes round again only after every other code, as emptied bins
    go back to the farms: the ring is larger than all the bins of the last
    week's batches, the only ones still open, so no code is in two open
    batches; codes already in open batches (an earlier run's) are skipped.
    """

    def __init__(self, size, taken):
        self.size = size
        self.taken = taken
        self.next = 0

    def take(self, count):
        codes = []
        while len(codes) < count:
            code = f"BN{self.next + 1:07d}"
            self.next = (self.next + 1) % self.size
            if code not in self.taken:
                codes.append(code)
        return codes


def qc_sample(rng, fruit, result, defects):
    """(sample size, brix text, firmness text, [(defect id, code, name, count)] by count) for a QC result.

    A pass finds a few minor blemishes; a downgrade one defect over the class 1 tolerance; a reject one far
    over it. Counts never exceed the sample (the database refuses that).
    """
    sample = rng.choice(QC_SAMPLE_SIZES)
    found = []
    if defects:
        kinds = rng.sample(defects, min(len(defects), rng.choice((0, 1, 1, 2, 2, 3)) if result == QCResult.PASS
                                        else rng.randint(1, 3)))
        for n, (pk, code, name) in enumerate(kinds):
            if n == 0 and result == QCResult.REJECT:
                share = rng.uniform(0.15, 0.45)
            elif n == 0 and result == QCResult.DOWNGRADE:
                share = rng.uniform(0.06, 0.14)
            else:
                share = rng.uniform(0.005, 0.04)
            found.append((pk, code, name, max(1, min(sample, round(sample * share)))))
    found.sort(key=lambda d: (-d[3], d[1]))
    brix, firmness = QC_BRIX[fruit], QC_FIRMNESS[fruit]
    return (sample, f"{rng.uniform(*brix):.1f}" if brix and rng.random() < 0.8 else NULL,
            f"{rng.uniform(*firmness):.1f}" if firmness and rng.random() < 0.8 else NULL, found)


class BatchLoader:
    """Adds a season's batches for a Seeder: its random generator, clock, report and output."""

    def __init__(self, seeder, packhouses, growers, orchards):
        self.rng = seeder.rng
        self.now_epoch = seeder.now_epoch
        self.report = seeder.report
        self.out = seeder.out
        self.progress = seeder.progress
        self.packhouses = packhouses
        self.growers = growers
        self.blocks = orchards.blocks
        self.seasons = orchards.seasons
        self.covers = orchards.covers
        self.defects = orchards.defects
        self.flag_uncleared = orchards.flag_uncleared
        self.plan = SeasonPlan(seeder, growers, orchards.blocks)

    def add(self, count):
        """COPY `count` batches and their history. Returns {grower index: {local day: value}} for payments.

        A pipeline over chunks of whole days: while a worker thread COPYs
        chunk n on this connection, this thread formats chunk n+1 (PostgreSQL
        and Python each get a core). The connection is used by one thread at
        a time: the counters and ids of the next chunk are taken between two
        COPYs.
        """
        plan = self.plan
        days = plan.sample_days(count)
        chunks = day_chunks(days, CHUNK)
        users = self.users()
        prices = PriceBook()
        # Only a batch of the last week can still be open: the ring holds more bins than all of theirs.
        taken = set(BatchBin.objects.filter(open=True).values_list("code", flat=True))
        last_week = sum(n for day, n in days if (plan.today - day).days <= OPEN_DAYS)
        self.bin_ring = BinRing(max(MIN_RING, MAX_BINS * last_week) + len(taken), taken)
        values = defaultdict(lambda: defaultdict(float))
        self.out(f"Batches: {self.report.batches_before} exist, adding {count}...")
        # The size from shutil: a terminal that reports 0 x 0 (some CI runners) would hide tqdm's bar.
        size = shutil.get_terminal_size((100, 24))
        bar = tqdm(total=count, unit=" batches", file=sys.stderr, disable=None if self.progress else True,
                   mininterval=0.5, ncols=min(size.columns, 120), nrows=size.lines)
        # A pipeline of two stages: while one chunk's COPY runs, the next chunk's lines are made. The pool's
        # exit waits for the COPY in flight, so none is left running on the connection, even on Ctrl-C.
        copying = None
        with foreign_keys_validated_after([table for table, _ in TABLES], immediate=count > CHECK_AT_COMMIT_UP_TO), \
                bar, ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-demo-copy") as pool:
            rows, ids = self._reserve(plan.chunk_batches(next(chunks, ())))
            while rows:
                lines = self._lines(rows, ids, users, prices, values)
                following = plan.chunk_batches(next(chunks, ()))
                self._written(copying, bar, count)
                rows, ids = self._reserve(following)
                copying = pool.submit(copy_chunk, raw_connection(), lines)
            self._written(copying, bar, count)
        report = self.report
        self.out(f"Batches: {report.batches_created} added with {report.history_created} history rows, "
                 f"{report.bins_created} scanned bins, {report.inspections_created} QC inspections; "
                 f"{report.uncleared_created} received without spray clearance.")
        return values

    def _reserve(self, rows):
        """Codes and ids for a chunk: the database work done between two COPYs."""
        if not rows:
            return [], ()
        self._number(rows)
        inspections = sum(1 for row in rows if row[10])
        return rows, (sorted(self._reserve_ids("batches", len(rows))),
                      sorted(self._reserve_ids("qc_inspections", inspections)))

    def _written(self, copying, bar, count):
        """Count the chunk whose COPY `copying` runs, once it is done (its error is raised here)."""
        if copying is None:
            return
        counts = copying.result()
        batches = counts["batches"]
        self.report.batches_created += batches
        self.report.history_created += counts["batch_history"]
        self.report.bins_created += counts["batch_bins"]
        self.report.inspections_created += counts["qc_inspections"]
        bar.update(batches)
        if bar.disable and self.progress:  # no terminal for the bar: a line per chunk instead
            self.out(f"  {self.report.batches_created} of {count} batches written.")

    @staticmethod
    def users():
        active = User.objects.filter(is_active=True).order_by("pk")
        clerks = list(active.filter(groups__name=CLERK).values_list("pk", flat=True))
        if not clerks:
            clerks = list(active.values_list("pk", flat=True)[:3])
        return clerks or [None]

    def _number(self, rows):
        """Batch codes, numbered in intake order from the counters' reserved numbers."""
        rows.sort(key=lambda row: row[0])  # intake time
        packhouses = self.packhouses
        next_number = records.reserve_numbers(Counter((packhouses[row[2]].pk, row[1]) for row in rows))
        for row in rows:
            packhouse, day = packhouses[row[2]], row[1]
            key = (packhouse.pk, day)
            number = next_number[key]
            next_number[key] = number + 1
            row.append(records.batch_code(packhouse.code, day, number))

    @staticmethod
    def _reserve_ids(table, count):
        if not count:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def _lines(self, rows, ids, users, prices, values):
        """COPY text for one chunk: {table: lines}. Pure Python: no database here."""
        rng = self.rng
        packhouses, growers, varieties = self.packhouses, self.growers, self.plan.varieties
        blocks, seasons, covers, defects = self.blocks, self.seasons, self.covers, self.defects
        flag_uncleared, bin_ring = self.flag_uncleared, self.bin_ring
        batch_ids, inspection_ids = ids
        inspection_ids = iter(inspection_ids)
        stamp = Timestamps()
        batch_lines, history_lines, bin_lines, inspection_lines, defect_lines = [], [], [], [], []
        uncleared = 0
        for batch_id, row in zip(batch_ids, rows, strict=True):
            (intake, day, ph, grower_index, variety_index, harvest, bins, gross, tare, block_index, inspect, scanned,
             code) = row
            grower, packhouse, block = growers[grower_index], packhouses[ph], blocks[block_index]
            season_id, season_code = seasons[day]
            without_clearance = flag_uncleared and not covered(covers, block.id, season_id, day)
            uncleared += without_clearance
            fruit, variety = varieties[variety_index]
            user = users[batch_id % len(users)]
            user_text = NULL if user is None else str(user)
            status, steps, packout, reason = lifecycle(rng, intake, self.now_epoch, gross - tare, grower.quality,
                                                       inspect)
            gross_kg, tare_kg = cents(gross), cents(tare)
            packout_kg = [cents(kg) for kg in packout] if packout else [NULL] * len(PACKOUT_FIELDS)
            bin_codes = bin_ring.take(bins) if scanned else ()
            if bin_codes:
                is_open = "t" if status in OPEN else "f"
                bin_lines.extend(f"{batch_id}\t{bin_code}\t{is_open}\n" for bin_code in bin_codes)
            qc_payload = None
            if inspect:
                inspection_id = next(inspection_ids)
                result = QCResult.REJECT if status == REJECTED else (
                    QCResult.DOWNGRADE if rng.random() < 0.15 else QCResult.PASS)
                sample, brix, firmness, found = qc_sample(rng, fruit, result, defects[fruit])
                top = found[:3]
                if result == QCResult.REJECT:
                    reason = records.qc_reject_reason([(name, count) for _, _, name, count in top], sample)
                    steps = [(*step[:4], reason) if step[3] == REJECTED else step for step in steps]
                qc_at = stamp(next(step[0] for step in steps if step[1] == QC))
                note = copy_text(rng.choice(QC_NOTES)) if rng.random() < 0.3 else ""
                inspection_lines.append(f"{inspection_id}\t{batch_id}\t{qc_at}\t{user_text}\t{sample}\t{brix}\t"
                                        f"{firmness}\t{result.value}\t{note}\n")
                defect_lines.extend(f"{inspection_id}\t{pk}\t{count}\n" for pk, _, _, count in found)
                qc_payload = copy_json(records.qc_payload(
                    inspection_id=inspection_id, result=result.value, sample_size=sample,
                    defects={defect_code: count for _, defect_code, _, count in top},
                ))
            # The history, in order, each row after the intake. The batch was created at its first row's
            # time and last updated at its last's.
            recorded = created_at = stamp(steps[0][0])
            created = copy_json(records.created_payload(
                batch_code=code, grower_code=grower.code, packhouse_code=packhouse.code, bin_count=bins,
                gross_weight_kg=gross_kg, tare_weight_kg=tare_kg, block=block.label, season_code=season_code,
                bins=bin_codes, without_clearance=without_clearance,
            ))
            history_lines.append(f"{batch_id}\t{CREATED}\t\t{RECEIVED}\t{created}\t{created_at}\t{user_text}\n")
            for moment, event, from_status, to_status, why in steps[1:]:
                if event == PACKOUT:
                    payload = copy_json(records.packout_payload(dict(zip(PACKOUT_FIELDS, packout_kg, strict=True))))
                elif event == QC:
                    payload = qc_payload
                elif why and inspect:
                    payload = copy_json(records.status_changed_payload(why))
                else:
                    payload = _status_changed_json(why)
                recorded = stamp(moment)
                history_lines.append(
                    f"{batch_id}\t{event}\t{from_status}\t{to_status}\t{payload}\t{recorded}\t{user_text}\n"
                )
            notes = copy_text(rng.choice(BATCH_NOTES)) if rng.random() < 0.03 else ""
            c1, c2, c3, waste = packout_kg
            batch_lines.append(
                f"{batch_id}\t{code}\t{grower.id}\t{packhouse.pk}\t{fruit}\t{copy_text(variety)}\t"
                f"{harvest.isoformat()}\t{stamp(intake)}\t{bins}\t{gross_kg}\t{tare_kg}\t{c1}\t{c2}\t{c3}\t{waste}\t"
                f"{status}\t{copy_text(reason)}\t{notes}\t{user_text}\t{len(steps)}\t{created_at}\t{recorded}\t"
                f"{block.id}\t{season_id}\t{'t' if without_clearance else 'f'}\n"
            )
            if status != REJECTED:
                values[grower_index][day] += prices.value(fruit, variety, day, gross - tare, packout)
        self.report.uncleared_created += uncleared
        return {"batches": batch_lines, "batch_history": history_lines, "batch_bins": bin_lines,
                "qc_inspections": inspection_lines, "qc_defects": defect_lines}


@contextmanager
def foreign_keys_validated_after(tables, immediate=False):
    """The foreign keys of `tables` are set aside while the block loads them, then put back and validated.

    Checked row by row, the ~20 foreign keys per batch (batch, block, season, grower, clerk... of batches,
    history, bins and inspections) took as long as the COPYs themselves; VALIDATE CONSTRAINT checks each
    one with a single join. Inside the caller's transaction: other sessions wait for its commit (the
    tables are locked), and if anything fails, the rollback brings the constraints back as they were.
    Each comes back under its own name with its own definition (pg_get_constraintdef), deferrable as before.
    The checks already queued (the farms and blocks just made) run first: PostgreSQL alters no table with
    checks pending. `immediate`: the other tables' checks run per statement from then on.
    """
    def settle(cursor):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if not immediate:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname", [list(tables)],
        )
        keys = cursor.fetchall()
        settle(cursor)
        for table, name, _ in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    with connection.cursor() as cursor:
        settle(cursor)
        for table, name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
            cursor.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')


def raw_connection():
    """psycopg's connection under Django's, with the search_path django-tenants sets when a cursor is taken.

    The COPY runs on it from the pool's thread, in the same session and transaction as the rest of the load.
    """
    with connection.cursor():
        pass
    return connection.connection


def copy_chunk(raw, lines):
    """COPY one chunk, table by table ({table: lines}). Returns {table: rows}."""
    with raw.cursor() as cursor:
        for table, columns in TABLES:
            if lines[table]:
                _copy_lines(cursor, table, columns, lines[table])
    return {table: len(rows) for table, rows in lines.items()}


def _copy_lines(cursor, table, columns, lines, block=20_000):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(lines), block):
            copy.write("".join(lines[start:start + block]))
