"""The only code that writes pallets, their lines and rooms. Every pallet change writes one history row."""

import json
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from batches.models import Status as BatchStatus
from core.cache import bump
from core.errors import Conflict
from core.idempotency import create_once
from core.services import apply_changes

from . import sscc
from .models import IN_HOUSE, Grade, Pallet, PalletHistory, PalletLine, PalletStatus, Room

NO_PREFIX = (
    "Pallets need the company's GS1 company prefix, and none is set. Platform staff enter it on the company "
    "in the platform admin (Companies → GS1 company prefix); then build the pallet again."
)
ROOM_EDITABLE = ("name", "capacity", "active")
Event = PalletHistory.Event


def _history(pallet, event, by, **payload):
    return PalletHistory.objects.create(pallet=pallet, event=event, payload=payload, recorded_by=by)


def _lock(pallet, expected_version=None):
    """The pallet's row, locked for this transaction; Conflict if it changed since the caller read it."""
    locked = Pallet.objects.select_for_update(of=("self",)).select_related("packhouse", "room").get(pk=pallet.pk)
    _check_version(locked, expected_version)
    return locked


def _check_version(locked, expected_version):
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"Pallet {locked.sscc} has changed since you loaded it (version {expected_version}, now "
            f"{locked.version}). Reload it and try again.",
            code="stale_version",
        )


def _save(pallet, fields=()):
    pallet.version += 1
    pallet.save(update_fields=[*fields, "version", "updated_at"])
    bump("pallets")


# _save and _history in one statement, for add_line: one round trip less while the pallet's lock is held.
SAVE_WITH_HISTORY = """
WITH saved AS (
    UPDATE pallets SET version = version + 1, updated_at = %(now)s WHERE id = %(pallet)s RETURNING id
)
INSERT INTO pallet_history (pallet_id, event, payload, recorded_at, recorded_by_id)
SELECT id, %(event)s, %(payload)s::jsonb, %(now)s, %(by)s FROM saved
"""


def _save_with_history(pallet, event, by, **payload):
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(SAVE_WITH_HISTORY, {"now": now, "pallet": pallet.pk, "event": event,
                                           "payload": json.dumps(payload), "by": by.pk if by else None})
    pallet.version += 1
    pallet.updated_at = now
    bump("pallets")


# --- SSCC -------------------------------------------------------------------------------------------------


def _next_serial(prefix):
    """The company's next serial reference. The UPDATE holds the counter row until the transaction ends, so
    concurrent builds queue here and no serial is ever issued twice (a rolled-back build gives its serial
    back, and nothing was printed with it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sscc_counter (id, last_serial) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET last_serial = sscc_counter.last_serial + 1 RETURNING last_serial"
        )
        serial = cursor.fetchone()[0]
    if serial > sscc.max_serial(prefix):
        raise ValidationError({"packhouse": (
            f"The company's SSCC serial references are used up: company prefix {prefix} leaves "
            f"{sscc.serial_digits(prefix)} digits, and all {sscc.max_serial(prefix):,} have been issued. "
            "GS1 issues a further company prefix; platform staff enter it on the company."
        )})
    return serial


def issue_sscc():
    """A new SSCC of this company. Call it inside the transaction that stores it."""
    company = connection.tenant
    prefix = getattr(company, "gs1_company_prefix", "")
    if not prefix:
        raise ValidationError({"packhouse": NO_PREFIX})
    return sscc.compose(company.sscc_extension_digit, prefix, _next_serial(prefix))


# --- pallets ----------------------------------------------------------------------------------------------


@transaction.atomic
def build_pallet(packhouse, *, by=None, idempotency_key=None):
    """An open pallet at `packhouse`, with its SSCC issued.

    `idempotency_key` is stored with the pallet; build_pallet_once is the way to use one.
    """
    if not packhouse.active:
        raise ValidationError({"packhouse": f"Packhouse {packhouse.code} is inactive."})
    number = issue_sscc()
    # issue_sscc holds the counter row until we commit, so builds queue there; a second press that queued
    # behind the first now sees its pallet, and create_once answers with it (this transaction rolls back and
    # gives the serial back: no SSCC is burnt).
    if idempotency_key and Pallet.objects.filter(idempotency_key=idempotency_key).exists():
        raise IntegrityError("A pallet with this idempotency key was built a moment ago.")
    pallet = Pallet.objects.create(sscc=number, packhouse=packhouse, built_by=by,
                                   idempotency_key=idempotency_key or None)
    _history(pallet, Event.BUILT, by, sscc=pallet.sscc, packhouse=packhouse.code)
    bump("pallets")
    return pallet


def build_pallet_once(idempotency_key, packhouse, *, by=None):
    """build_pallet for a form pressed twice or a client that retries. Returns (pallet, created)."""
    return create_once(Pallet, idempotency_key, {"packhouse_id": packhouse.pk},
                       lambda: build_pallet(packhouse, by=by, idempotency_key=idempotency_key), thing="pallet")


def _clean_line(grade, cartons, kg):
    errors = {}
    if grade not in Grade.values:
        errors["grade"] = f"Choose class1, class2 or class3, not '{grade}'."
    if not isinstance(cartons, int) or isinstance(cartons, bool) or cartons < 1:
        errors["cartons"] = "Enter 1 or more cartons."
    try:
        kg = Decimal(kg)
    except (InvalidOperation, TypeError, ValueError):
        kg = None
    if kg is None or not kg.is_finite() or kg <= 0 or kg != kg.quantize(Decimal("0.01")):
        errors["kg"] = "Enter more than 0 kg, with at most 2 decimals."
    elif kg >= Decimal("100000000"):
        errors["kg"] = "That is more kg than any pallet holds."
    if errors:
        raise ValidationError(errors)
    return kg


def on_pallets_kg(batch_ids):
    """{batch id: {grade: kg on pallets}} in one query."""
    totals = {}
    rows = (PalletLine.objects.filter(batch_id__in=list(batch_ids)).values("batch_id", "grade")
            .annotate(kg=Sum("kg")).order_by())
    for row in rows:
        totals.setdefault(row["batch_id"], {})[row["grade"]] = row["kg"]
    return totals


def remaining_kg(batches):
    """{batch id: {grade: kg not yet on a pallet}} for packed batches, in one query."""
    on = on_pallets_kg(batch.pk for batch in batches)
    return {
        batch.pk: {grade: (getattr(batch, f"{grade}_kg") or Decimal("0")) - on.get(batch.pk, {}).get(grade, 0)
                   for grade in Grade.values}
        for batch in batches
    }


# The pallet and the batch, locked in that order (FROM and FOR UPDATE OF list them so; every other writer
# takes the pallet's lock before a batch's), with what add_line checks of each, in one round trip.
LOCK_PALLET_AND_BATCH = """
SELECT p.id, p.sscc, p.status, p.version, p.packhouse_id,
       b.batch_code AS locked_batch_code, b.status AS locked_batch_status,
       b.packhouse_id AS locked_batch_packhouse_id,
       CASE %(grade)s WHEN 'class1' THEN b.class1_kg WHEN 'class2' THEN b.class2_kg WHEN 'class3' THEN b.class3_kg
       END AS locked_packed_kg
FROM pallets p, batches b WHERE p.id = %(pallet)s AND b.id = %(batch)s
FOR UPDATE OF p, b
"""


def _lock_with_batch(pallet, batch, grade):
    locked = next(iter(Pallet.objects.raw(LOCK_PALLET_AND_BATCH,
                                          {"pallet": pallet.pk, "batch": batch.pk, "grade": grade})), None)
    if locked is None:
        raise Pallet.DoesNotExist("The pallet or the batch no longer exists.")
    return locked


def add_line(pallet, *, batch, grade, cartons, kg, by=None, expected_version=None, idempotency_key=None):
    """Put `kg` of one grade of a packed batch on an open pallet, never more than the batch has left.

    Four clerks filling one pallet queue on its row lock, so the rate of adding lines is one over the time the
    lock is held: from the lock to the commit it is four statements (lock both rows, the kg already on
    pallets, the line, the pallet's version with its history row) and no cache call (bump runs on commit).
    `idempotency_key` is stored with the line; add_line_once is the way to use one.
    """
    kg = _clean_line(grade, cartons, kg)
    with transaction.atomic():
        # The batch's row lock makes the sum below the truth until we commit: a clerk adding the same batch
        # to another pallet waits here, then counts our line. The sum is its own statement, after the lock:
        # one that waited for a lock still reads with the snapshot it started with.
        pallet = _lock_with_batch(pallet, batch, grade)
        if idempotency_key and PalletLine.objects.filter(idempotency_key=idempotency_key).exists():
            # A second press that waited on the lock for the first one: create_once answers with that line
            # (the first press bumped the version this one still carries).
            raise IntegrityError("A line with this idempotency key was added a moment ago.")
        _check_version(pallet, expected_version)
        if pallet.status != PalletStatus.OPEN:
            raise ValidationError({"pallet": f"Pallet {pallet.sscc} is {pallet.status}; lines go on open pallets "
                                             "only. A manager may reopen it."})
        code = pallet.locked_batch_code
        if pallet.locked_batch_status != BatchStatus.PACKED:
            raise ValidationError({"batch": f"Batch {code} is {pallet.locked_batch_status}; only packed batches "
                                            "go on pallets."})
        if pallet.locked_batch_packhouse_id != pallet.packhouse_id:
            raise ValidationError({"batch": f"Batch {code} was packed at another packhouse than "
                                            f"pallet {pallet.sscc}."})
        on = PalletLine.objects.filter(batch_id=batch.pk, grade=grade).aggregate(kg=Sum("kg", default=0))["kg"]
        left = (pallet.locked_packed_kg or Decimal("0")) - on
        if kg > left:
            label = Grade(grade).label.lower()
            raise ValidationError({"kg": f"Batch {code} has {max(left, 0)} kg of {label} left to put "
                                         f"on pallets; {kg} kg is more than that."})
        try:
            # No savepoint: a refusal here ends the whole transaction anyway.
            line = PalletLine.objects.create(pallet=pallet, batch_id=batch.pk, grade=grade, cartons=cartons, kg=kg,
                                             idempotency_key=idempotency_key or None)
        except IntegrityError:
            # The trigger refused what the check above allowed: only a writer outside this service can cause it.
            raise ValidationError({"kg": f"Batch {code} has no {kg} kg of {grade} left."}) from None
        _save_with_history(pallet, Event.LINE_ADDED, by, line=line.pk, batch=code, grade=grade, cartons=cartons,
                           kg=str(kg))
    line.batch = batch
    return line


def add_line_once(idempotency_key, pallet, *, batch, grade, cartons, kg, by=None, expected_version=None):
    """add_line for a form pressed twice or a client that retries. Returns (line, created).

    The replay is answered before the version check: the first press bumped the version the second one
    still carries, and the clerk should hear "already added", not "changed since you loaded it".
    """
    identity = {"pallet_id": pallet.pk, "batch_id": batch.pk, "grade": grade, "cartons": cartons}
    try:
        identity["kg"] = Decimal(kg)
    except (InvalidOperation, TypeError, ValueError):
        pass  # add_line says what is wrong with it
    return create_once(PalletLine, idempotency_key, identity,
                       lambda: add_line(pallet, batch=batch, grade=grade, cartons=cartons, kg=kg, by=by,
                                        expected_version=expected_version, idempotency_key=idempotency_key),
                       thing="pallet line")


def remove_line(line, *, by=None, expected_version=None):
    """Take a line off an open pallet: its kg are free for another pallet."""
    with transaction.atomic():
        pallet = _lock(line.pallet, expected_version)
        if pallet.status != PalletStatus.OPEN:
            raise ValidationError({"pallet": f"Pallet {pallet.sscc} is {pallet.status}; lines come off open "
                                             "pallets only."})
        line = PalletLine.objects.select_related("batch").filter(pk=line.pk, pallet=pallet).first()
        if line is None:
            raise ValidationError({"line": "That line is no longer on the pallet."})
        payload = {"line": line.pk, "batch": line.batch.batch_code, "grade": line.grade, "cartons": line.cartons,
                   "kg": str(line.kg)}
        line.delete()
        _save(pallet)
        _history(pallet, Event.LINE_REMOVED, by, **payload)
    return pallet


def totals(pallet):
    return pallet.lines.aggregate(cartons=Sum("cartons", default=0), kg=Sum("kg", default=Decimal("0")),
                                  lines=Count("id"))


def close(pallet, *, by=None, expected_version=None):
    """The pallet is complete: no more lines, ready for its label and the cold store."""
    with transaction.atomic():
        pallet = _lock(pallet, expected_version)
        if pallet.status != PalletStatus.OPEN:
            raise ValidationError({"status": f"Pallet {pallet.sscc} is {pallet.status}; only an open pallet is "
                                             "closed."})
        summed = totals(pallet)
        if not summed["lines"]:
            raise ValidationError({"status": f"Pallet {pallet.sscc} has no lines; add one before closing it."})
        pallet.status = PalletStatus.CLOSED
        _save(pallet, ["status"])
        _history(pallet, Event.CLOSED, by, cartons=summed["cartons"], kg=str(summed["kg"]))
    return pallet


def reopen(pallet, *, by=None, expected_version=None):
    """Open a closed or stored pallet again to change its lines (a manager's decision: its label changes)."""
    with transaction.atomic():
        pallet = _lock(pallet, expected_version)
        if pallet.status not in (PalletStatus.CLOSED, PalletStatus.STORED):
            raise ValidationError({"status": f"Pallet {pallet.sscc} is {pallet.status}; only a closed or stored "
                                             "pallet is reopened."})
        from_status = pallet.status
        pallet.status = PalletStatus.OPEN
        _save(pallet, ["status"])
        _history(pallet, Event.REOPENED, by, from_status=from_status)
    return pallet


def room_load(room):
    return Pallet.objects.filter(room=room, status__in=IN_HOUSE).count()


def over_capacity_message(room, count):
    return f"Room {room.code} holds {count} pallets, over its capacity of {room.capacity}."


def move_to_room(pallet, room, *, by=None, expected_version=None):
    """Store a closed or stored pallet in a cold-store room of its packhouse.

    A full room is not refused (the pallet is already there, physically): `pallet.warning` says so.
    """
    with transaction.atomic():
        pallet = _lock(pallet, expected_version)
        if pallet.status not in (PalletStatus.CLOSED, PalletStatus.STORED):
            raise ValidationError({"status": f"Pallet {pallet.sscc} is {pallet.status}; close it before moving "
                                             "it to a room."})
        if room.packhouse_id != pallet.packhouse_id:
            raise ValidationError({"room": f"Room {room.code} is at another packhouse than pallet {pallet.sscc}."})
        if not room.active:
            raise ValidationError({"room": f"Room {room.code} is not in use."})
        if pallet.room_id == room.pk:
            raise ValidationError({"room": f"Pallet {pallet.sscc} is already in room {room.code}."})
        from_room = pallet.room.code if pallet.room else None
        pallet.room, pallet.status = room, PalletStatus.STORED
        _save(pallet, ["room", "status"])
        count = room_load(room)
        over = count > room.capacity
        _history(pallet, Event.MOVED, by, from_room=from_room, to_room=room.code,
                 **({"over_capacity": count} if over else {}))
    pallet.warning = over_capacity_message(room, count) if over else None
    return pallet


# --- loads (dispatch sits above pallets and calls these; pallets never sees a load) -----------------------

LOADABLE = (PalletStatus.CLOSED, PalletStatus.STORED)


def lock_for_load(pallet):
    """The pallet's row, locked for the caller's transaction (which must be open)."""
    return _lock(pallet)


def load_pallet(pallet, *, load_number, by=None):
    """Mark a locked closed or stored pallet as loaded on `load_number`. Call inside the load's transaction."""
    if pallet.status not in LOADABLE:
        raise ValidationError({"sscc": f"Pallet {pallet.sscc} is {pallet.get_status_display().lower()}; only "
                                       "closed or stored pallets go on a load."})
    from_status = pallet.status
    pallet.status = PalletStatus.LOADED
    _save(pallet, ["status"])
    _history(pallet, Event.LOADED, by, load=load_number, from_status=from_status,
             room=pallet.room.code if pallet.room_id else None)
    return pallet


def unload_pallet(pallet, *, load_number, by=None):
    """Take a locked, loaded pallet off `load_number`: back to stored when it still has a room, else closed."""
    if pallet.status != PalletStatus.LOADED:
        raise ValidationError({"pallet": f"Pallet {pallet.sscc} is {pallet.status}, not loaded."})
    pallet.status = PalletStatus.STORED if pallet.room_id else PalletStatus.CLOSED
    _save(pallet, ["status"])
    _history(pallet, Event.UNLOADED, by, load=load_number, to_status=pallet.status)
    return pallet


def dispatch_pallets(pallets, *, load_number, by=None):
    """The loaded pallets leave with `load_number`. Call inside the load's transaction, pallets locked."""
    for pallet in pallets:
        if pallet.status != PalletStatus.LOADED:
            raise ValidationError({"status": f"Pallet {pallet.sscc} is {pallet.status}, not loaded; it cannot "
                                             "be dispatched."})
        pallet.status = PalletStatus.DISPATCHED
        _save(pallet, ["status"])
        _history(pallet, Event.DISPATCHED, by, load=load_number)
    return pallets


def dispatched_kg(batch_ids):
    """{batch id: kg on dispatched pallets} in one query."""
    rows = (PalletLine.objects.filter(batch_id__in=list(batch_ids), pallet__status=PalletStatus.DISPATCHED)
            .values("batch_id").annotate(kg=Sum("kg")).order_by())
    return {row["batch_id"]: row["kg"] for row in rows}


# --- rooms ------------------------------------------------------------------------------------------------


def _save_room(room):
    room.full_clean()
    try:
        with transaction.atomic():
            room.save()
    except IntegrityError:
        raise ValidationError({"code": "This code was taken a moment ago; choose another."}) from None
    bump("rooms")


@transaction.atomic
def create_room(*, packhouse, code, name, capacity, active=True):
    room = Room(packhouse=packhouse, code=code.strip().upper(), name=name.strip(), capacity=capacity, active=active)
    if Room.objects.filter(packhouse=packhouse, code=room.code).exists():
        raise ValidationError({"code": f"Packhouse {packhouse.code} already has a room {room.code}."})
    _save_room(room)
    return room


@transaction.atomic
def update_room(room, **changes):
    """Change name, capacity or active. Code and packhouse are fixed: scanned labels and history name them."""
    if apply_changes(room, changes, ROOM_EDITABLE):
        _save_room(room)
    return room


def rooms_with_stock(queryset):
    # GROUP BY drops Meta.ordering: say it again.
    return (queryset.annotate(stock=Count("pallets", filter=Q(pallets__status__in=IN_HOUSE)))
            .order_by("packhouse__code", "code", "id"))
