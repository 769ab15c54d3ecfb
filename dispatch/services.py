"""The only code that writes loads. Pallet changes go through pallets.services (history rows there), batch
moves through batches.services.transition (history rows there)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from stdnum import iso6346
from stdnum.exceptions import ValidationError as StdnumError

from batches import services as batch_services
from batches.models import Batch
from batches.models import Status as BatchStatus
from core.cache import bump
from core.errors import Conflict
from core.services import apply_changes
from pallets import services as pallet_services
from pallets.models import Pallet, PalletLine

from .models import Load, LoadPallet, LoadStatus

EDITABLE = ("vehicle_registration", "container_number", "seal_number", "destination", "consignee",
            "planned_departure")
TEXT_FIELDS = ("vehicle_registration", "seal_number", "destination", "consignee")


def clean_container(value):
    """The ISO 6346 container number in its compact form, or a ValidationError that says what is wrong."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return iso6346.validate(value)
    except StdnumError as exc:
        raise ValidationError({"container_number": (
            f"{value} is not a valid ISO 6346 container number ({exc.message.rstrip('.').lower()}): four "
            "letters, six digits and a check digit, e.g. CSQU3054383."
        )}) from None


def clean_sscc(value):
    value = (value or "").strip()
    if len(value) == 20 and value.startswith("00"):
        value = value[2:]  # the scanner sent the AI too
    if len(value) != 18 or not value.isdigit():
        raise ValidationError({"sscc": f"'{value}' is not an SSCC: an SSCC is 18 digits."})
    return value


def _clean(changes):
    changes = dict(changes)
    for name in TEXT_FIELDS:
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    if "vehicle_registration" in changes:
        changes["vehicle_registration"] = changes["vehicle_registration"].upper()
    if "container_number" in changes:
        changes["container_number"] = clean_container(changes["container_number"])
    return changes


def _next_number(year):
    """L<year>-<5 digits>: the UPDATE holds the year's counter row until the transaction ends, so two clerks
    never get the same number (a rolled-back create gives its number back: nothing was printed with it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO load_counters (year, last_number) VALUES (%s, 1) "
            "ON CONFLICT (year) DO UPDATE SET last_number = load_counters.last_number + 1 RETURNING last_number",
            [year],
        )
        number = cursor.fetchone()[0]
    return f"L{year}-{number:05d}"


@transaction.atomic
def create_load(*, packhouse, by=None, **fields):
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "This field cannot be set." for name in unknown})
    if not packhouse.active:
        raise ValidationError({"packhouse": f"Packhouse {packhouse.code} is inactive."})
    load = Load(packhouse=packhouse, created_by=by, **_clean(fields))
    load.load_number = _next_number(timezone.localdate().year)
    load.full_clean(exclude=["created_by", "dispatched_by"])
    load.save()
    bump("loads")
    return load


def _lock(load, expected_version=None):
    locked = Load.objects.select_for_update(of=("self",)).select_related("packhouse").get(pk=load.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"Load {locked.load_number} has changed since you loaded it (version {expected_version}, now "
            f"{locked.version}). Reload it and try again.",
            code="stale_version",
        )
    return locked


def _save(load, fields=()):
    load.version += 1
    load.save(update_fields=[*fields, "version", "updated_at"])
    bump("loads")


def _refuse_if_dispatched(load):
    if load.status == LoadStatus.DISPATCHED:
        when = timezone.localtime(load.dispatched_at).strftime("%Y-%m-%d %H:%M")
        raise ValidationError({"status": f"Load {load.load_number} was dispatched on {when}; a dispatched load "
                                         "does not change."})


def update_load(load, *, expected_version=None, **changes):
    """Change the vehicle, container, seal, destination, consignee or departure of a load not yet dispatched."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    with transaction.atomic():
        load = _lock(load, expected_version)
        _refuse_if_dispatched(load)
        if apply_changes(load, _clean(changes), EDITABLE):
            load.full_clean(exclude=["created_by", "dispatched_by"])
            _save(load, [name for name in EDITABLE if name in changes])
    return load


def add_pallet(load, sscc, *, by=None):
    """Scan a pallet onto a load: closed or stored, of the load's packhouse, on no other load."""
    sscc = clean_sscc(sscc)
    with transaction.atomic():
        load = _lock(load)
        _refuse_if_dispatched(load)
        pallet = Pallet.objects.filter(sscc=sscc).first()
        if pallet is None:
            raise ValidationError({"sscc": f"No pallet of this company has SSCC {sscc}."})
        # The pallet's lock orders two clerks scanning it onto two loads: the second sees the first's row.
        pallet = pallet_services.lock_for_load(pallet)
        on = LoadPallet.objects.filter(pallet=pallet).select_related("load").first()
        if on is not None:
            where = "this load" if on.load_id == load.pk else f"load {on.load.load_number}"
            raise ValidationError({"sscc": f"Pallet {sscc} is already on {where}."})
        if pallet.packhouse_id != load.packhouse_id:
            raise ValidationError({"sscc": f"Pallet {sscc} is at packhouse {pallet.packhouse.code}; load "
                                           f"{load.load_number} leaves from {load.packhouse.code}."})
        pallet_services.load_pallet(pallet, load_number=load.load_number, by=by)
        LoadPallet.objects.create(load=load, pallet=pallet, added_by=by)
        fields = []
        if load.status == LoadStatus.PLANNING:
            load.status = LoadStatus.LOADING
            fields.append("status")
        _save(load, fields)
    return pallet


def remove_pallet(load, pallet, *, by=None):
    """Take a pallet off a load not yet dispatched: it is closed again, or stored if it has a room."""
    with transaction.atomic():
        load = _lock(load)
        _refuse_if_dispatched(load)
        pallet = pallet_services.lock_for_load(pallet)
        deleted, _ = LoadPallet.objects.filter(load=load, pallet=pallet).delete()
        if not deleted:
            raise ValidationError({"pallet": f"Pallet {pallet.sscc} is not on load {load.load_number}."})
        pallet_services.unload_pallet(pallet, load_number=load.load_number, by=by)
        fields = []
        if not load.load_pallets.exists():
            load.status = LoadStatus.PLANNING
            fields.append("status")
        _save(load, fields)
    return pallet


def fully_dispatched(batches):
    """The packed batches among `batches` whose pack-out kg (class 1 to 3) are all on dispatched pallets."""
    out = pallet_services.dispatched_kg(batch.pk for batch in batches)
    return [batch for batch in batches if batch.status == BatchStatus.PACKED
            and (batch.packed_kg or 0) > 0 and out.get(batch.pk, Decimal("0")) == batch.packed_kg]


def dispatch_load(load, *, by=None, expected_version=None):
    """The load leaves: it is locked for good, its pallets are dispatched, and every batch whose pack-out kg
    are now all on dispatched pallets moves to dispatched. One transaction: any refusal leaves all as it was.
    """
    with transaction.atomic():
        load = _lock(load, expected_version)
        _refuse_if_dispatched(load)
        # Locked in id order, as every other writer of several pallets or batches would: no deadlock.
        pallets = [pallet_services.lock_for_load(pallet) for pallet in
                   Pallet.objects.filter(load_pallet__load=load).order_by("id")]
        if not pallets:
            raise ValidationError({"status": f"Load {load.load_number} has no pallets; scan some onto it first."})
        pallet_services.dispatch_pallets(pallets, load_number=load.load_number, by=by)
        batch_ids = (PalletLine.objects.filter(pallet__in=pallets).values_list("batch_id", flat=True)
                     .distinct().order_by("batch_id"))
        batches = _with_packed_kg(batch_ids)
        moved = []
        for batch in fully_dispatched(batches):
            moved.append(batch_services.transition(
                batch, BatchStatus.DISPATCHED, by=by, by_dispatch=True,
                reason=f"All its pallets left on load {load.load_number}.",
            ))
        load.status = LoadStatus.DISPATCHED
        load.dispatched_at = timezone.now()
        load.dispatched_by = by
        _save(load, ["status", "dispatched_at", "dispatched_by"])
    load.batches_dispatched = moved
    return load


def _with_packed_kg(batch_ids):
    batches = list(Batch.objects.filter(pk__in=batch_ids).order_by("id"))
    for batch in batches:
        batch.packed_kg = sum((getattr(batch, f"class{n}_kg") or Decimal("0") for n in (1, 2, 3)), Decimal("0"))
    return batches
