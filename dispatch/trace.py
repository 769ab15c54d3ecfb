"""The recall trace: from one identifier to everything connected, upstream and downstream.

The identifier names batches (a batch code, a bin code, an SSCC, a load number, a FARM/BLOCK code or a
grower code); the trace then takes every one of those batches upstream (grower, farm, block, spray
clearances, QC) and downstream (all their pallets, rooms and loads, not only the scanned pallet's: a recall
pulls everything that batch went into). Every statement is a lookup by a unique or foreign-key index:
docs/TRACE.md has them with their EXPLAIN.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from batches.models import Batch, BatchBin, QCInspection
from batches.models import Status as BatchStatus
from growers.models import Block, Grower, SprayClearance
from packhouses.models import Packhouse
from pallets.models import Grade, Pallet, PalletLine, PalletStatus
from seasons.models import Season

from .models import LoadPallet

# A grower's whole history can be large: the page and the API stop here and say so.
MAX_BATCHES = 5000
# Up to this many batches, a trace joins their growers, blocks... and its lines' pallets (see trace()).
JOIN_UP_TO = 100
ZERO = Decimal("0")


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
    loads: dict = field(default_factory=dict)  # pallet id -> Load
    clearances: list = field(default_factory=list)
    inspections: list = field(default_factory=list)
    balances: dict = field(default_factory=dict)  # batch id -> Balance
    lines_by_batch: dict = field(default_factory=dict)  # batch id -> [PalletLine]
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


def _attach(rows, name, queryset):
    """Set each row's foreign key `name` from one query of the distinct objects it names."""
    ids = {getattr(row, f"{name}_id") for row in rows} - {None}
    objects = queryset.in_bulk(ids) if ids else {}
    for row in rows:
        key = getattr(row, f"{name}_id")
        if key is not None:
            setattr(row, name, objects[key])


def _sscc(value):
    if len(value) == 20 and value.startswith("00"):
        value = value[2:]
    return value if len(value) == 18 and value.isdigit() else None


def resolve(query):
    """[(kind, batch ids)] for every kind of identifier `query` is."""
    value = query.strip().upper()
    found = []
    if not value:
        return found
    ids = list(Batch.objects.filter(batch_code=value).values_list("pk", flat=True))
    if ids:
        found.append(("batch", ids))
    ids = list(BatchBin.objects.filter(code=value).values_list("batch_id", flat=True).order_by().distinct())
    if ids:
        found.append(("bin", ids))
    sscc = _sscc(value)
    if sscc:
        ids = list(PalletLine.objects.filter(pallet__sscc=sscc).values_list("batch_id", flat=True)
                   .order_by().distinct())
        if ids:
            found.append(("sscc", ids))
    if value.startswith("L"):
        ids = list(PalletLine.objects.filter(pallet__load_pallet__load__load_number=value)
                   .values_list("batch_id", flat=True).order_by().distinct())
        if ids:
            found.append(("load", ids))
    if "/" in value:
        farm_code, _, block_code = value.partition("/")
        block = Block.objects.filter(farm__code=farm_code.strip(), code=block_code.strip()).first()
        if block is not None:
            ids = list(Batch.objects.filter(block=block).values_list("pk", flat=True)[:MAX_BATCHES + 1])
            if ids:
                found.append(("block", ids))
    grower = Grower.objects.filter(code=value).first()
    if grower is not None:
        ids = list(Batch.objects.filter(grower=grower).values_list("pk", flat=True)[:MAX_BATCHES + 1])
        if ids:
            found.append(("grower", ids))
    return found


def balance(batch, lines):
    """The batch's mass balance from its pallet lines; flags say what does not add up."""
    net = batch.net_weight_kg or ZERO
    per_grade = {grade: getattr(batch, f"{grade}_kg") or ZERO for grade in Grade.values}
    class_kg = sum(per_grade.values(), ZERO)
    waste = batch.waste_kg or ZERO
    on = {grade: ZERO for grade in Grade.values}
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
    # A big trace (a grower's: 5,000 batches, some 15,000 lines) reads the few growers, packhouses, blocks and
    # seasons of its batches, and the pallets of its lines, once each (_attach): select_related built them again
    # for every row, most of its time. A small one joins them, in fewer round trips (docs/PERFORMANCE.md,
    # "Pallets and the trace").
    batches = Batch.objects.filter(pk__in=batch_ids).order_by("intake_date", "id")
    lines = PalletLine.objects.filter(batch_id__in=batch_ids).order_by("batch_id", "pallet_id", "id")
    if len(batch_ids) <= JOIN_UP_TO:
        result.batches = list(batches.select_related("grower", "packhouse", "block__farm__grower", "season"))
        result.lines = list(lines.select_related("pallet__room", "pallet__packhouse"))
    else:
        result.batches = list(batches)
        _attach(result.batches, "grower", Grower.objects.all())
        _attach(result.batches, "packhouse", Packhouse.objects.all())
        _attach(result.batches, "block", Block.objects.select_related("farm__grower"))
        _attach(result.batches, "season", Season.objects.all())
        result.lines = list(lines)
        _attach(result.lines, "pallet", Pallet.objects.select_related("room", "packhouse"))
    by_id = {batch.pk: batch for batch in result.batches}
    for line in result.lines:
        line.batch = by_id[line.batch_id]
    pallet_ids = {line.pallet_id for line in result.lines}
    if pallet_ids:
        result.loads = {row.pallet_id: row.load for row in
                        LoadPallet.objects.filter(pallet_id__in=pallet_ids).select_related("load")}
    block_ids = {batch.block_id for batch in result.batches if batch.block_id}
    season_ids = {batch.season_id for batch in result.batches if batch.season_id}
    result.clearances = list(SprayClearance.objects.filter(block_id__in=block_ids, season_id__in=season_ids)
                             .select_related("block__farm", "season").order_by("block_id", "cleared_on"))
    result.inspections = list(QCInspection.objects.filter(batch_id__in=batch_ids).order_by("batch_id", "inspected_at"))
    for inspection in result.inspections:
        inspection.batch = by_id[inspection.batch_id]
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

