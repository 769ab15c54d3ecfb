"""The recall trace: from one identifier to everything connected, upstream and downstream.

The identifier names batches (a batch code, a bin code, an SSCC, a load number, a FARM/BLOCK code or a
grower code); the trace then takes every one of those batches upstream (grower, farm, block, spray
clearances, QC) and downstream (all their pallets, rooms and loads, not only the scanned pallet's: a recall
pulls everything that batch went into). Every statement is a lookup by a unique or foreign-key index:
docs/TRACE.md has them with their EXPLAIN.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import F

from batches.models import QCInspection, QCResult
from batches.models import Status as BatchStatus
from core.lookups import AnyOf
from growers.models import FruitType, SprayClearance
from pallets.models import Grade, PalletStatus

from .models import LoadStatus

# A grower's whole history can be large: the page and the API stop here and say so.
MAX_BATCHES = 5000
ZERO = Decimal("0")
GRADES = tuple(Grade.values)  # Grade.values builds its list again on every read: 10,000 reads a grower's trace


@dataclass
class Balance:
    net: Decimal
    class_kg: Decimal
    waste: Decimal
    on_pallets: Decimal
    not_palletised: Decimal
    dispatched: Decimal
    flags: list = field(default_factory=list)

    @property
    def flagged(self):
        return bool(self.flags)


@dataclass
class Result:
    query: str
    kinds: list = field(default_factory=list)
    batches: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    loads: dict = field(default_factory=dict)  # pallet id -> TraceLoad
    clearances: list = field(default_factory=list)
    inspections: list = field(default_factory=list)
    balances: dict = field(default_factory=dict)  # batch id -> Balance
    lines_by_batch: dict = field(default_factory=dict)  # batch id -> [TraceLine]
    truncated: bool = False

    @property
    def found(self):
        return bool(self.batches)

    @property
    def growers(self):
        return _unique(batch.grower for batch in self.batches)

    @property
    def blocks(self):
        return _unique(batch.block for batch in self.batches if batch.block_id)

    @property
    def pallets(self):
        return _unique(line.pallet for line in self.lines)

    @property
    def rooms(self):
        return _unique(line.pallet.room for line in self.lines if line.pallet.room_id)

    @property
    def load_list(self):
        return _unique(self.loads.values())

    @property
    def consignees(self):
        return sorted({load.consignee for load in self.loads.values() if load.consignee})

    @property
    def flagged(self):
        return [batch for batch in self.batches if self.balances[batch.pk].flagged]


def _unique(objects):
    seen = {}
    for obj in objects:
        seen.setdefault(obj.pk, obj)
    return list(seen.values())


@dataclass(slots=True)
class TraceGrower:
    pk: int
    code: str


@dataclass(slots=True)
class TraceFarm:
    pk: int
    code: str
    name: str
    puc: str
    grower: TraceGrower | None


@dataclass(slots=True)
class TraceBlock:
    pk: int
    code: str
    fruit_type: str
    variety: str
    farm: TraceFarm

    def get_fruit_type_display(self):
        return FruitType(self.fruit_type).label


@dataclass(slots=True)
class TraceBatch:
    """A batch as the trace shows it, with what its mass balance reads (`balance()` takes a Batch too)."""

    pk: int
    batch_code: str
    status: str
    intake_date: object
    fruit_type: str
    variety: str
    net_weight_kg: Decimal | None
    class1_kg: Decimal | None
    class2_kg: Decimal | None
    class3_kg: Decimal | None
    waste_kg: Decimal | None
    season_id: int | None
    grower_id: int
    grower: TraceGrower
    block_id: int | None
    block: TraceBlock | None
    balance: Balance | None = None
    trace_lines: list | None = None

    @property
    def has_packout(self):
        return self.class1_kg is not None

    def get_status_display(self):
        return BatchStatus(self.status).label


@dataclass(slots=True)
class TraceSeason:
    pk: int
    code: str


@dataclass(slots=True)
class TraceClearance:
    block: TraceBlock
    season: TraceSeason
    cleared_on: object
    lab_reference: str
    valid_until: object


@dataclass(slots=True)
class TraceInspection:
    batch_id: int
    inspected_at: object
    sample_size: int
    result: str
    batch: TraceBatch | None = None

    def get_result_display(self):
        return QCResult(self.result).label


# The batches and their lines are raw SQL, named by db_table like RESOLVE_ARMS: building them with the ORM
# cost more CPU than running them. The block, its farm and the farm's grower are one LATERAL lookup per batch
# by blocks' primary key (in a big trace Memoize reads each block once): joined flat, the planner hashed all
# of blocks for a load's 30 batches, most of that statement's time. LIMIT 1 keeps the subquery from being
# flattened into that join; a block has one row anyway.
BATCHES_SQL = """
SELECT b.id, b.batch_code, b.status, b.intake_date, b.fruit_type, b.variety, b.net_weight_kg, b.class1_kg,
       b.class2_kg, b.class3_kg, b.waste_kg, b.season_id, b.grower_id, g.code, b.block_id, k.code, k.fruit_type,
       k.variety, k.farm_id, k.farm_code, k.farm_name, k.puc, k.farm_grower_id, k.farm_grower_code
FROM batches b
JOIN growers g ON g.id = b.grower_id
LEFT JOIN LATERAL (
    SELECT k.code, k.fruit_type, k.variety, k.farm_id, f.code AS farm_code, f.name AS farm_name, f.puc,
           f.grower_id AS farm_grower_id, o.code AS farm_grower_code
    FROM blocks k JOIN farms f ON f.id = k.farm_id JOIN growers o ON o.id = f.grower_id
    WHERE k.id = b.block_id LIMIT 1
) k ON true
WHERE b.id = ANY(%s::bigint[])
ORDER BY b.intake_date, b.id"""


def _batches(batch_ids, blocks):
    """The batches with their growers, blocks and farms in one statement, as plain rows (a grower's trace has
    5,000: a model instance for each batch, grower, block, farm and farm's grower was most of its time).
    `blocks` gets each block, for the clearances."""
    growers, farms = {}, {}
    batches = []
    with connection.cursor() as cursor:
        cursor.execute(BATCHES_SQL, [sorted(batch_ids)])
        rows = cursor.fetchall()
    for (pk, code, status, intake_date, fruit_type, variety, net, class1, class2, class3, waste, season_id,
         grower_id, grower_code, block_id, block_code, block_fruit, block_variety, farm_id, farm_code, farm_name,
         puc, farm_grower_id, farm_grower_code) in rows:
        grower = growers.get(grower_id) or growers.setdefault(grower_id, TraceGrower(grower_id, grower_code))
        block = None
        if block_id is not None:
            block = blocks.get(block_id)
            if block is None:
                farm = farms.get(farm_id)
                if farm is None:
                    owner = None
                    if farm_grower_id is not None:
                        owner = growers.get(farm_grower_id) or growers.setdefault(
                            farm_grower_id, TraceGrower(farm_grower_id, farm_grower_code))
                    farm = farms[farm_id] = TraceFarm(farm_id, farm_code, farm_name, puc, owner)
                block = blocks[block_id] = TraceBlock(block_id, block_code, block_fruit, block_variety, farm)
        batches.append(TraceBatch(pk, code, status, intake_date, fruit_type, variety, net, class1, class2, class3,
                                  waste, season_id, grower_id, grower, block_id, block))
    return batches


def _clearances(blocks, season_ids):
    """The spray clearances of the batches' blocks in their seasons; their blocks are the batches' blocks."""
    if not blocks or not season_ids:
        return []
    seasons = {}
    rows = (SprayClearance.objects.filter(block_id__in=list(blocks), season_id__in=season_ids)
            .order_by("block_id", "cleared_on")
            .values_list("block_id", "season_id", "season__code", "cleared_on", "lab_reference", "valid_until"))
    clearances = []
    for block_id, season_id, season_code, cleared_on, lab_reference, valid_until in rows:
        season = seasons.get(season_id) or seasons.setdefault(season_id, TraceSeason(season_id, season_code))
        clearances.append(TraceClearance(blocks[block_id], season, cleared_on, lab_reference, valid_until))
    return clearances


@dataclass(slots=True)
class TraceRoom:
    pk: int
    code: str


@dataclass(slots=True)
class TraceLoad:
    pk: int
    load_number: str
    status: str
    dispatched_at: object
    destination: str
    consignee: str

    def get_status_display(self):
        return LoadStatus(self.status).label


@dataclass(slots=True)
class TracePallet:
    pk: int
    sscc: str
    status: str
    room_id: int | None
    room: TraceRoom | None

    def get_status_display(self):
        return PalletStatus(self.status).label


@dataclass(slots=True)
class TraceLine:
    """A pallet line as the trace shows it. The trace of a grower's season has some 15,000 lines: a model
    instance per line, per pallet, room and load was most of its time; these are plain rows of one statement."""

    pk: int
    pallet_id: int
    batch_id: int
    grade: str
    cartons: int
    kg: Decimal
    pallet: TracePallet
    batch: object = None
    load: TraceLoad | None = None

    def get_grade_display(self):
        return Grade(self.grade).label


LINES_SQL = """
SELECT l.id, l.pallet_id, l.batch_id, l.grade, l.cartons, l.kg, p.sscc, p.status, p.room_id, r.code, lp.load_id,
       o.load_number, o.status, o.dispatched_at, o.destination, o.consignee
FROM pallet_lines l
JOIN pallets p ON p.id = l.pallet_id
LEFT JOIN rooms r ON r.id = p.room_id
LEFT JOIN load_pallets lp ON lp.pallet_id = p.id
LEFT JOIN loads o ON o.id = lp.load_id
WHERE l.batch_id = ANY(%s::bigint[])
ORDER BY l.batch_id, l.pallet_id, l.id"""


def _lines(batch_ids, loads):
    """The batches' pallet lines with their pallets, rooms and loads, in one statement; `loads` gets each
    pallet's load. A pallet, room or load shared by many lines is one object."""
    pallets, rooms, loads_by_id = {}, {}, {}
    lines = []
    with connection.cursor() as cursor:
        cursor.execute(LINES_SQL, [sorted(batch_ids)])
        rows = cursor.fetchall()
    for (pk, pallet_id, batch_id, grade, cartons, kg, sscc, status, room_id, room_code, load_id, load_number,
         load_status, dispatched_at, destination, consignee) in rows:
        pallet = pallets.get(pallet_id)
        if pallet is None:
            room = None
            if room_id is not None:
                room = rooms.get(room_id) or rooms.setdefault(room_id, TraceRoom(room_id, room_code))
            pallet = pallets[pallet_id] = TracePallet(pallet_id, sscc, status, room_id, room)
            if load_id is not None:
                load = loads_by_id.get(load_id) or loads_by_id.setdefault(load_id, TraceLoad(
                    load_id, load_number, load_status, dispatched_at, destination, consignee))
                loads[pallet_id] = load
        lines.append(TraceLine(pk, pallet_id, batch_id, grade, cartons, kg, pallet))
    return lines


def _sscc(value):
    if len(value) == 20 and value.startswith("00"):
        value = value[2:]
    return value if len(value) == 18 and value.isdigit() else None


KINDS = ("batch", "bin", "sscc", "load", "block", "grower")
# Each kind of identifier is one arm of a single statement (one round trip, one plan, however many kinds the
# query could be); the block's and the grower's newest batches first, as many as the trace keeps and one more
# to know it was cut. The SQL names the tables (db_table) and reads the same indexes as the ORM did
# (docs/TRACE.md).
RESOLVE_ARMS = {
    "batch": "SELECT 'batch', id FROM batches WHERE batch_code = %(value)s",
    "bin": "SELECT 'bin', batch_id FROM batch_bins WHERE code = %(value)s",
    "sscc": "SELECT 'sscc', l.batch_id FROM pallet_lines l JOIN pallets p ON p.id = l.pallet_id "
            "WHERE p.sscc = %(sscc)s",
    "load": "SELECT 'load', l.batch_id FROM loads o JOIN load_pallets lp ON lp.load_id = o.id "
            "JOIN pallet_lines l ON l.pallet_id = lp.pallet_id WHERE o.load_number = %(value)s",
    "block": "SELECT 'block', b.id FROM farms f JOIN blocks k ON k.farm_id = f.id JOIN batches b ON b.block_id = k.id "
             "WHERE f.code = %(farm)s AND k.code = %(block)s ORDER BY b.intake_date DESC, b.id DESC LIMIT %(limit)s",
    "grower": "SELECT 'grower', b.id FROM growers g JOIN batches b ON b.grower_id = g.id WHERE g.code = %(value)s "
              "ORDER BY b.intake_date DESC, b.id DESC LIMIT %(limit)s",
}


def resolve(query):
    """[(kind, batch ids)] for every kind of identifier `query` is."""
    value = query.strip().upper()
    if not value:
        return []
    params = {"value": value, "sscc": _sscc(value), "limit": MAX_BATCHES + 1}
    arms = ["batch", "bin"]
    if params["sscc"]:
        arms.append("sscc")
    if value.startswith("L"):
        arms.append("load")
    if "/" in value:
        farm_code, _, block_code = value.partition("/")
        params.update(farm=farm_code.strip(), block=block_code.strip())
        arms.append("block")
    arms.append("grower")
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"({RESOLVE_ARMS[arm]})" for arm in arms), params)
        for kind, batch_id in cursor.fetchall():
            found.setdefault(kind, set()).add(batch_id)
    return [(kind, sorted(found[kind])) for kind in KINDS if kind in found]


def balance(batch, lines):
    """The batch's mass balance from its pallet lines; flags say what does not add up."""
    net = batch.net_weight_kg or ZERO
    per_grade = {grade: getattr(batch, f"{grade}_kg") or ZERO for grade in GRADES}
    class_kg = sum(per_grade.values(), ZERO)
    waste = batch.waste_kg or ZERO
    on = dict.fromkeys(GRADES, ZERO)
    dispatched = ZERO
    for line in lines:
        on[line.grade] = on.get(line.grade, ZERO) + line.kg
        if line.pallet.status == PalletStatus.DISPATCHED:
            dispatched += line.kg
    on_pallets = sum(on.values(), ZERO)
    result = Balance(net=net, class_kg=class_kg, waste=waste, on_pallets=on_pallets,
                     not_palletised=class_kg - on_pallets, dispatched=dispatched)
    # record_packout accepts only a pack-out that adds up to the net (docs/TRACE.md), whatever the status: a
    # batch that does not was written past it (an import, SQL) or had its net corrected after its pack-out.
    if batch.has_packout and class_kg + waste != net:
        result.flags.append(f"Net {net} kg is not class kg {class_kg} + waste {waste} kg "
                            f"({net - class_kg - waste:+} kg unaccounted): the pack-out was written past the "
                            "pack-out form, or the net was corrected after it.")
    if not batch.has_packout and on_pallets:
        result.flags.append(f"{on_pallets} kg on pallets without a pack-out.")
    for grade, kg in on.items():
        if kg > per_grade[grade]:
            result.flags.append(f"{kg} kg of {Grade(grade).label.lower()} on pallets, more than the "
                                f"{per_grade[grade]} kg packed.")
    if batch.status == BatchStatus.DISPATCHED and lines and dispatched != class_kg:
        result.flags.append(f"Dispatched, but only {dispatched} of its {class_kg} class kg left on dispatched "
                            "pallets.")
    if batch.status != BatchStatus.DISPATCHED and lines and class_kg and dispatched == class_kg:
        result.flags.append(f"All {class_kg} class kg left on dispatched pallets, but the batch is {batch.status}.")
    return result


def trace(query):
    result = Result(query=(query or "").strip())
    batch_ids = set()
    for kind, ids in resolve(result.query):
        result.kinds.append(kind)
        batch_ids.update(ids)
    if len(batch_ids) > MAX_BATCHES:
        result.truncated = True
        batch_ids = set(sorted(batch_ids)[:MAX_BATCHES])
    if not batch_ids:
        return result
    # Plain rows of one statement each, only the columns the page, the JSON and the CSV show: model instances
    # and every column's parsing were most of a big trace's time (docs/PERFORMANCE.md, "Session 7").
    blocks = {}
    result.batches = _batches(batch_ids, blocks)
    result.lines = _lines(batch_ids, result.loads)
    by_id = {batch.pk: batch for batch in result.batches}
    for line in result.lines:
        line.batch = by_id[line.batch_id]
    result.clearances = _clearances(blocks, {batch.season_id for batch in result.batches if batch.season_id})
    result.inspections = [
        TraceInspection(*row, batch=by_id[row[0]]) for row in
        QCInspection.objects.filter(AnyOf(F("batch_id"), batch_ids)).order_by("batch_id", "inspected_at")
        .values_list("batch_id", "inspected_at", "sample_size", "result")
    ]
    for line in result.lines:
        result.lines_by_batch.setdefault(line.batch_id, []).append(line)
    result.balances = {batch.pk: balance(batch, result.lines_by_batch.get(batch.pk, [])) for batch in result.batches}
    for batch in result.batches:
        batch.balance = result.balances[batch.pk]  # for the template
    for line in result.lines:
        line.load = result.loads.get(line.pallet_id)
    return result


CSV_HEADER = ["batch", "status", "intake_date", "grower", "farm", "puc", "block", "fruit_type", "variety",
              "net_kg", "class_kg", "waste_kg", "on_pallets_kg", "not_palletised_kg", "dispatched_kg", "flagged",
              "sscc", "pallet_status", "room", "grade", "cartons", "kg", "load", "load_status", "dispatched_at",
              "destination", "consignee"]


def csv_rows(result):
    """One row per batch × pallet line × load; a batch on no pallet has one row with the pallet columns empty."""
    for batch in result.batches:
        bal = result.balances[batch.pk]
        farm = batch.block.farm if batch.block_id else None
        head = [batch.batch_code, batch.status, batch.intake_date.date().isoformat(), batch.grower.code,
                farm.code if farm else "", (farm.puc or "") if farm else "", batch.block.code if batch.block_id else "",
                batch.fruit_type, batch.variety, bal.net, bal.class_kg, bal.waste, bal.on_pallets,
                bal.not_palletised, bal.dispatched, "yes" if bal.flagged else "no"]
        lines = result.lines_by_batch.get(batch.pk, [])
        if not lines:
            yield head + [""] * 11
        for line in lines:
            load = result.loads.get(line.pallet_id)
            yield head + [line.pallet.sscc, line.pallet.status, line.pallet.room.code if line.pallet.room_id else "",
                          line.grade, line.cartons, line.kg, load.load_number if load else "",
                          load.status if load else "",
                          load.dispatched_at.isoformat() if load and load.dispatched_at else "",
                          load.destination if load else "", load.consignee if load else ""]

