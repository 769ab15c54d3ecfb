"""The only code that writes batches. Every change writes exactly one history row, in the same transaction."""

import re
from datetime import timedelta
from decimal import Decimal

import psycopg.errors
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from core import audit
from core.cache import bump
from core.errors import Conflict
from core.idempotency import create_once
from core.numbers import format_number
from core.services import apply_changes, raise_if_invalid
from core.tenancy import company_date, company_today
from growers.models import FruitType
from growers.services import clearance_for, find_block
from seasons.services import no_season_message, season_for
from tenants.models import MrlGate

from . import records
from .models import (
    BIN_CODE_RE,
    OPEN_STATUSES,
    PACKOUT_FIELDS,
    TRANSITIONS,
    Batch,
    BatchBin,
    BatchHistory,
    BinWeightRange,
    QCDefect,
    QCInspection,
    QCResult,
    Status,
)
from .signals import before_correction, before_transition, intake_changed

# A company row always has harvest_confirm_days; this is for code run outside a request (a shell, a test).
DEFAULT_HARVEST_CONFIRM_DAYS = 7

# What daily_grower_intake sums: an edit of these makes the view stale.
INTAKE_VIEW_FIELDS = {"block", "fruit_type", "bin_count", "gross_weight_kg", "tare_weight_kg"}
# Fruit type and variety follow the block; a correction names another block.
EDITABLE = ("block", "harvest_date", "bin_count", "gross_weight_kg", "tare_weight_kg", "notes")
PACKOUT_STATUSES = (Status.GRADING, Status.PACKING)
FROZEN_STATUSES = (Status.DISPATCHED, Status.REJECTED)
# A weighbridge's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=10)


def _history(batch, event, by, payload=None, from_status="", to_status=""):
    return BatchHistory.objects.create(
        batch=batch, event=event, payload=payload or {}, recorded_by=by,
        from_status=from_status, to_status=to_status,
    )


def _next_batch_code(packhouse, day):
    key = (packhouse.pk, day)
    return records.batch_code(packhouse.code, day, records.reserve_numbers({key: 1})[key])


def _check_weights_and_bins(gross, tare, bins, errors):
    for field, value in (("gross_weight_kg", gross), ("tare_weight_kg", tare)):
        if value is not None and value < 0:
            errors[field] = "A weight cannot be negative."
    if "tare_weight_kg" not in errors and gross is not None and tare is not None and tare >= gross:
        errors["tare_weight_kg"] = "The tare weight must be less than the gross weight."
    if bins is not None and bins < 1:
        errors["bin_count"] = "A delivery has at least one bin."


def record_intake(*, packhouse, harvest_date, gross_weight_kg, tare_weight_kg, block=None, grower=None,
                  fruit_type=None, variety=None, bin_count=None, bins=(), notes="", by=None, intake_date=None,
                  idempotency_key=None, confirm_unusual=False):
    """A delivery arrives: a new batch in 'received', with its code, season, bins and its 'created' history row.

    The block names where the fruit grew; grower, fruit type and variety are the block's. A caller that names
    no block (an older integration) gives grower, fruit type and variety, and gets the one active block that
    matches, or a ValidationError naming the candidates. Scanned `bins` set `bin_count`.
    `idempotency_key` is stored with the batch; record_intake_once is the way to use one.
    Figures out of the ordinary (unusual_intake) are refused under `confirm_unusual` unless the caller
    confirms them; the history row then records what was confirmed.
    """
    now = timezone.now()
    intake_date = intake_date or now
    errors = {}
    # Refusals about the grower go beside the field the caller filled in.
    grower_field = "block" if block is not None else "grower"
    if block is None:
        if grower is None:
            raise ValidationError({"block": "Say which block the fruit came from."})
        block = find_block(grower=grower, fruit_type=fruit_type, variety=variety)
    grower = block.farm.grower
    day = company_date(intake_date)
    if intake_date > now + CLOCK_SKEW:
        errors["intake_date"] = "The intake time cannot be in the future."
    if not grower.active:
        errors[grower_field] = f"{grower} is inactive; a manager can reactivate the grower."
    if not block.active or not block.farm.active:
        errors["block"] = f"Block {block} is inactive; a manager can reactivate it."
    if not packhouse.active:
        errors["packhouse"] = f"{packhouse} is inactive."
    if harvest_date and harvest_date > company_today():
        errors["harvest_date"] = "The harvest date cannot be in the future."
    elif harvest_date and harvest_date > day:
        errors["harvest_date"] = "The fruit cannot be harvested after it was delivered."
    season = season_for(day)
    if season is None:
        errors["intake_date"] = no_season_message(day)
    bins = _clean_bins(bins, errors)
    if bins:
        if bin_count not in (None, len(bins)):
            errors.setdefault("bin_count", f"{len(bins)} bins were scanned but the bin count says {bin_count}.")
        bin_count = len(bins)
    _check_weights_and_bins(gross_weight_kg, tare_weight_kg, bin_count, errors)
    unusual = []
    if not errors:
        unusual = unusual_intake(fruit_type=block.fruit_type, gross_weight_kg=gross_weight_kg,
                                 tare_weight_kg=tare_weight_kg, bin_count=bin_count, harvest_date=harvest_date,
                                 intake_day=day)
        if unusual and not confirm_unusual:
            errors["confirm_unusual"] = [*unusual, "Check the figures; if they are right, confirm them."]
    without_clearance = False
    if season is not None and "block" not in errors:
        gate = getattr(connection.tenant, "mrl_gate", MrlGate.WARN)
        if gate != MrlGate.OFF and clearance_for(block, season, day) is None:
            if gate == MrlGate.BLOCK:
                errors["block"] = (f"Block {block} has no spray clearance for season {season.code} on {day:%d %b %Y}; "
                                   "the company refuses fruit without one. Record the clearance first.")
            without_clearance = True

    batch = Batch(
        grower=grower, block=block, season=season, packhouse=packhouse, fruit_type=block.fruit_type,
        variety=block.variety, harvest_date=harvest_date, intake_date=intake_date, bin_count=bin_count,
        gross_weight_kg=gross_weight_kg, tare_weight_kg=tare_weight_kg, notes=notes or "", created_by=by,
        idempotency_key=idempotency_key or None, without_clearance=without_clearance,
    )
    _full_clean(batch, errors)

    with transaction.atomic():
        batch.batch_code = _next_batch_code(packhouse, day)
        batch.save()  # its INSERT returns the generated net_weight_kg
        if bins:
            _add_bins(batch, bins)
        batch.bin_codes = bins  # in the order added, as the API's `bins` reads them: no query for the answer
        _history(batch, BatchHistory.Event.CREATED, by, to_status=Status.RECEIVED, payload=records.created_payload(
            batch_code=batch.batch_code, grower_code=grower.code, packhouse_code=packhouse.code,
            bin_count=bin_count, gross_weight_kg=gross_weight_kg, tare_weight_kg=tare_weight_kg,
            block=str(block), season_code=season.code, bins=bins, without_clearance=without_clearance,
            confirmed_unusual=unusual,
        ))
        bump("batches")
        intake_changed.send(sender=Batch, batch=batch)
    return batch


def unusual_intake(*, fruit_type, gross_weight_kg, tare_weight_kg, bin_count, harvest_date, intake_day):
    """What is out of the ordinary in a delivery, as sentences that say what was understood; [] when nothing.

    Net kg per bin outside the company's range for the fruit (BinWeightRange), or a harvest more than the
    company's harvest_confirm_days before the delivery: either is more often a typing slip than the truth.
    """
    found = []
    if gross_weight_kg is not None and tare_weight_kg is not None and bin_count:
        net = gross_weight_kg - tare_weight_kg
        per_bin = net / bin_count
        limits = BinWeightRange.for_fruit(fruit_type)
        if limits and not limits[0] <= per_bin <= limits[1]:
            fruit = FruitType(fruit_type).label.lower() if fruit_type in FruitType.values else fruit_type
            found.append(
                f"{format_number(net)} kg net from {bin_count} bin{'s' if bin_count != 1 else ''} is "
                f"{format_number(per_bin)} kg per bin; {fruit} bins usually hold "
                f"{format_number(limits[0], 0)}–{format_number(limits[1], 0)} kg."
            )
    if harvest_date:
        days = (intake_day - harvest_date).days
        limit = getattr(connection.tenant, "harvest_confirm_days", None) or DEFAULT_HARVEST_CONFIRM_DAYS
        if days > limit:
            found.append(f"The fruit was harvested on {harvest_date:%d %b %Y}, {days} days before delivery; "
                         f"more than {limit} days is unusual.")
    return found


def set_bin_weight_range(fruit_type, *, min_net_kg, max_net_kg, by=None):
    """The company's usual net kg per bin of one fruit; returns the row. Intake checks against it from now."""
    errors = {}
    if fruit_type not in FruitType.values:
        errors["fruit_type"] = f"Unknown fruit type {fruit_type!r}."
    if min_net_kg is None or min_net_kg <= 0:
        errors["min_net_kg"] = "The lowest net kg per bin must be above 0."
    elif max_net_kg is None or max_net_kg <= min_net_kg:
        errors["max_net_kg"] = "The highest net kg per bin must be above the lowest."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, _ = BinWeightRange.objects.update_or_create(
            fruit_type=fruit_type, defaults={"min_net_kg": min_net_kg, "max_net_kg": max_net_kg, "updated_by": by},
        )
        audit.event_on_commit("batches.bin_weight_range_set", fruit_type=fruit_type, min_net_kg=str(min_net_kg),
                              max_net_kg=str(max_net_kg), user=by)
    return row


def _clean_bins(codes, errors):
    """Scanned codes, upper-cased and checked; duplicates in one delivery are refused, not merged."""
    cleaned, seen, bad, twice = [], set(), [], []
    for raw in codes or ():
        code = (raw or "").strip().upper()
        if not code:
            continue
        if not re.fullmatch(BIN_CODE_RE, code):
            bad.append(code[:40])
        elif code in seen:
            twice.append(code)
        else:
            seen.add(code)
            cleaned.append(code)
    if bad:
        errors["bins"] = f"Not a bin code: {', '.join(bad[:5])}. A bin code is 1 to 32 letters, digits or dashes."
    elif twice:
        errors["bins"] = f"Scanned twice: {', '.join(sorted(set(twice))[:5])}."
    elif cleaned:
        held = list(BatchBin.objects.filter(code__in=cleaned, open=True).select_related("batch")[:5])
        if held:
            errors["bins"] = "Already in an open batch: " + ", ".join(
                f"{bin.code} ({bin.batch.batch_code})" for bin in held) + "."
    return cleaned


def _add_bins(batch, codes):
    try:
        with transaction.atomic():
            BatchBin.objects.bulk_create([BatchBin(batch=batch, code=code) for code in codes])
    except IntegrityError:
        # Another intake took one of these bins between the check and the insert; the index refused it.
        raise ValidationError({"bins": "One of these bins was put in another open batch a moment ago; "
                                       "reload and scan again."}) from None


# What must match for a replayed Idempotency-Key to be the same delivery.
INTAKE_IDENTITY = ("packhouse", "harvest_date", "gross_weight_kg", "tare_weight_kg")


def record_intake_once(idempotency_key, **intake):
    """record_intake for a client that may send the same delivery twice. Returns (batch, created)."""
    identity = {name: intake.get(name) for name in INTAKE_IDENTITY}
    for name in ("block", "grower", "fruit_type", "bin_count"):
        if intake.get(name) is not None:
            identity[name] = intake[name]
    if intake.get("variety") is not None:
        identity["variety"] = intake["variety"].strip()
    return create_once(Batch, idempotency_key, identity,
                       lambda: record_intake(**intake, idempotency_key=idempotency_key), thing="delivery")


def _full_clean(batch, errors):
    """Field validation (choices, lengths, digits) plus the rules gathered so far, raised together.

    The CHECK constraints are not validated again in Python: each has a rule
    in this module with a message for its field, and the database enforces
    them anyway. Re-validating them would cost a query each on every intake.
    """
    raise_if_invalid(batch, errors, constraints=False, exclude=[
        # The related rows were read a moment ago (a ForeignKey's validation is a query each); the foreign
        # keys hold anyway.
        "batch_code", "grower", "packhouse", "block", "season", "created_by", "net_weight_kg", "idempotency_key",
    ])


def _lock(batch, expected_version=None):
    """The batch's row, locked for this transaction, or Conflict if someone else holds it.

    NOWAIT: the loser of a race is told at once instead of queueing behind
    the winner and then acting on a batch that changed under it.
    """
    try:
        locked = (
            Batch.objects.select_for_update(nowait=True, of=("self",))
            .select_related("grower", "packhouse").get(pk=batch.pk)
        )
    except OperationalError as exc:
        if isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
            raise Conflict(
                f"Batch {batch.batch_code} is being changed by someone else right now. Reload it and try again.",
                code="batch_locked",
            ) from None
        raise
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"Batch {locked.batch_code} has changed since you loaded it (version {expected_version}, "
            f"now {locked.version}). Reload it and try again.",
            code="stale_version",
        )
    return locked


def _save(batch, fields):
    batch.version += 1
    batch.save(update_fields=[*fields, "version", "updated_at"])
    bump("batches")


def transition(batch, to_status, *, by=None, reason="", expected_version=None, by_dispatch=False):
    """Move a batch to its next status, along the allowed moves only.

    by_dispatch: the move is a load's dispatch (dispatch.services), which the before_transition receivers
    allow where they refuse a clerk's button.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        batch = _lock(batch, expected_version)
        from_status = Status(batch.status)
        if to_status not in Status.values:
            raise ValidationError({"to_status": f"'{to_status}' is not a status."})
        allowed = TRANSITIONS[from_status]
        if to_status not in allowed:
            may = ", ".join(allowed) or "nothing: it is final"
            raise ValidationError({
                "to_status": f"A {from_status.label.lower()} batch cannot move to {to_status}; it may move to {may}."
            })
        if to_status == Status.REJECTED and not reason:
            raise ValidationError({"reason": "Say why the batch is rejected."})
        if to_status == Status.PACKED and not batch.has_packout:
            raise ValidationError({"to_status": "Record the pack-out before marking the batch packed."})
        if to_status == Status.GRADING and (why := grading_needs_qc(batch)):
            raise ValidationError({"to_status": why})
        refusals = [answer for _, answer in before_transition.send(
            sender=Batch, batch=batch, to_status=to_status, by_dispatch=by_dispatch) if answer]
        if refusals:
            raise ValidationError({"to_status": refusals})

        batch.status = to_status
        fields = ["status"]
        if to_status == Status.REJECTED:
            batch.rejection_reason = reason
            fields.append("rejection_reason")
        _save(batch, fields)
        if from_status in OPEN_STATUSES and to_status not in OPEN_STATUSES:
            # Its bins are free for the next delivery.
            batch.bins.filter(open=True).update(open=False)
        _history(batch, BatchHistory.Event.STATUS_CHANGED, by, from_status=from_status, to_status=to_status,
                 payload=records.status_changed_payload(reason))
        audit.event_on_commit(
            "batch.transitioned", user=by, batch=batch.pk, batch_code=batch.batch_code,
            from_status=from_status.value, to_status=to_status, reason=reason or "-",
        )
    return batch


def record_packout(batch, *, class1_kg, class2_kg, class3_kg, waste_kg, by=None, expected_version=None):
    """The kg per class after grading, and the waste: together exactly the net kg (DESIGN.md's mass balance,
    docs/TRACE.md). What is not in a class is waste, shrinkage included."""
    values = {"class1_kg": class1_kg, "class2_kg": class2_kg, "class3_kg": class3_kg, "waste_kg": waste_kg}
    errors = {name: "Enter 0 or more kg." for name, value in values.items() if value is None or value < 0}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        batch = _lock(batch, expected_version)
        if batch.status not in PACKOUT_STATUSES:
            raise ValidationError(
                {"status": f"Pack-out is recorded while a batch is grading or packing; this one is {batch.status}."}
            )
        total = sum(values.values(), Decimal("0"))
        if total > batch.net_weight_kg:
            raise ValidationError({
                "__all__": f"The pack-out adds up to {total} kg, more than the batch's net {batch.net_weight_kg} kg."
            })
        if total < batch.net_weight_kg:
            rest = batch.net_weight_kg - total + waste_kg
            raise ValidationError({"waste_kg": (
                f"The pack-out adds up to {total} kg, {batch.net_weight_kg - total} kg short of the batch's net "
                f"{batch.net_weight_kg} kg. Every kg is in a class or in waste (culls, juice fruit and shrinkage "
                f"are waste): with these classes the waste is {rest} kg."
            )})
        previous = {name: getattr(batch, name) for name in PACKOUT_FIELDS}
        for name, value in values.items():
            setattr(batch, name, value)
        _save(batch, list(PACKOUT_FIELDS))
        _history(batch, BatchHistory.Event.PACKOUT, by, payload=records.packout_payload(values, previous))
    return batch


# What a clerk's edit (change_batch) may change; the rest of EDITABLE is a manager's correction, with a reason.
NOTE_FIELDS = ("notes",)
CORRECTED_FIELDS = tuple(name for name in EDITABLE if name not in NOTE_FIELDS)
# The database's refusals of a correction, in words, by constraint (the services check first; these are the backstop).
CONSTRAINT_MESSAGES = {
    "batches_tare_below_gross": ("tare_weight_kg", "The tare weight must be less than the gross weight."),
    "batches_weights_non_negative": ("gross_weight_kg", "A weight cannot be negative."),
    "batches_bins_positive": ("bin_count", "A delivery has at least one bin."),
    "batches_packout_within_net": ("gross_weight_kg", "The recorded pack-out would exceed the new net weight."),
}


def is_correction(changes):
    """Whether `changes` touch what only a manager corrects (weights, bins, block, harvest date)."""
    return bool(set(changes) & set(CORRECTED_FIELDS))


def edit(batch, changes, *, by=None, expected_version=None, reason="", confirm_unusual=False):
    """Change a batch's notes; anything more is a correction (correct_batch), which needs a reason.

    Kept for the callers that change notes (the clerk's PATCH, the admin); a change that touches
    CORRECTED_FIELDS is passed on to correct_batch, which refuses it without a reason.
    """
    if is_correction(changes) or (reason or "").strip():
        return correct_batch(batch, changes, reason=reason, by=by, expected_version=expected_version,
                             confirm_unusual=confirm_unusual)
    with transaction.atomic():
        batch = _lock(batch, expected_version)
        if batch.status in FROZEN_STATUSES:
            raise ValidationError({"status": f"A {batch.status} batch can no longer be edited."})
        changed = apply_changes(batch, changes, NOTE_FIELDS)
        if not changed:
            return batch
        _full_clean(batch, {})
        _save(batch, list(changed))
        _history(batch, BatchHistory.Event.EDITED, by, payload=records.edited_payload(changed))
    return batch


def correct_batch(batch, changes, *, reason, by=None, expected_version=None, confirm_unusual=False):
    """A manager corrects what was recorded wrongly: weights, bins, block, harvest date (and notes with them).

    One history row ('corrected') holds each changed field, old and new, and the reason. Refused without a
    reason, when the corrected batch breaks a rule (tare below gross, pack-out within the new net, the block's
    grower), and when a receiver of signals.before_correction refuses (a higher layer that knows the batch's
    value is settled). Any status may be corrected: a weighbridge slip found after dispatch still changes what
    the grower is owed, until the value is settled. The database's CHECK constraints are the backstop.
    Corrected figures out of the ordinary (unusual_intake, as at intake) need `confirm_unusual`, and the
    history row records the override.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the batch is corrected; the history keeps the reason."})
    with transaction.atomic():
        batch = _lock(batch, expected_version)
        changed = apply_changes(batch, changes, EDITABLE)
        if not changed:
            return batch  # a retried PATCH: nothing to record
        errors = {}
        if "block" in changed:
            if batch.block.farm.grower_id != batch.grower_id:
                errors["block"] = "The new block belongs to another grower; record a new intake instead."
            batch.fruit_type, batch.variety = batch.block.fruit_type, batch.block.variety
            changed["block"] = [changed["block"][0], str(batch.block)]
        _check_weights_and_bins(batch.gross_weight_kg, batch.tare_weight_kg, batch.bin_count, errors)
        if "harvest_date" in changed and batch.harvest_date > company_date(batch.intake_date):
            errors["harvest_date"] = "The fruit cannot be harvested after it was delivered."
        if "bin_count" in changed and "bin_count" not in errors:
            scanned = batch.bins.count()
            if scanned and batch.bin_count != scanned:
                errors["bin_count"] = f"{scanned} bins were scanned at intake; the bin count is their number."
        net = batch.gross_weight_kg - batch.tare_weight_kg
        if batch.has_packout and not errors and net != batch.net_weight_kg:
            graded = batch.class1_kg + batch.class2_kg + batch.class3_kg
            if graded > net:
                # Pallet lines never hold more than the classes (pallets checks that), so this covers them too.
                errors["gross_weight_kg"] = (
                    f"The graded classes total {graded} kg, which exceeds the new net {net} kg; "
                    "correct the pack-out first."
                )
            else:
                # A pack-out adds up to the net (record_packout, the trace's mass balance). The classes were
                # weighed on the line; what the corrected net adds or takes away is waste, and the row says so.
                changed["waste_kg"] = [str(batch.waste_kg), str(net - graded)]
                batch.waste_kg = net - graded
        unusual = []
        if not errors and set(changed) & {"gross_weight_kg", "tare_weight_kg", "bin_count", "harvest_date"}:
            unusual = unusual_intake(fruit_type=batch.fruit_type, gross_weight_kg=batch.gross_weight_kg,
                                     tare_weight_kg=batch.tare_weight_kg, bin_count=batch.bin_count,
                                     harvest_date=batch.harvest_date, intake_day=company_date(batch.intake_date))
            if unusual and not confirm_unusual:
                errors["confirm_unusual"] = [*unusual, "Check the figures; if they are right, confirm them."]
        _full_clean(batch, errors)
        refusals = [answer for _, answer in before_correction.send(
            sender=Batch, batch=batch, changes=changed, reason=reason, by=by) if answer]
        if refusals:
            raise ValidationError({"__all__": refusals})
        try:
            with transaction.atomic():
                _save(batch, [*changed, *(["fruit_type", "variety"] if "block" in changed else [])])
        except IntegrityError as exc:
            raise _constraint_error(exc) from None
        batch.refresh_from_db(fields=["net_weight_kg"])
        _history(batch, BatchHistory.Event.CORRECTED, by,
                 payload=records.corrected_payload(changed, reason, confirmed_unusual=unusual))
        if set(changed) & INTAKE_VIEW_FIELDS:
            intake_changed.send(sender=Batch, batch=batch)
        audit.event_on_commit("batch.corrected", user=by, batch=batch.pk, batch_code=batch.batch_code,
                              fields=",".join(sorted(changed)), reason=reason)
    return batch


def _constraint_error(exc):
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    field, message = CONSTRAINT_MESSAGES.get(name, ("__all__", "The database refused this correction: "
                                                               "it breaks a rule of the batch."))
    return ValidationError({field: message})


QC_STATUSES = (Status.RECEIVED, Status.GRADING)
# More fruit than anyone counts by hand; a bigger number is a typing slip (or would overflow the column).
MAX_SAMPLE = 10_000
BRIX_RANGE = (Decimal("0"), Decimal("40"))
FIRMNESS_RANGE = (Decimal("0"), Decimal("30"))
QC_REQUIRED_MESSAGE = ("This company requires a QC inspection before grading: record one that passes or "
                       "downgrades the batch.")


def grading_needs_qc(batch):
    """Why `batch` may not start grading yet (the company's qc_required), or None. The batch page asks too."""
    if getattr(connection.tenant, "qc_required", False) and not batch.inspections.filter(
            result__in=(QCResult.PASS, QCResult.DOWNGRADE)).exists():
        return QC_REQUIRED_MESSAGE
    return None


def _check_inspection(batch, sample_size, result, defects, brix, firmness_kg):
    errors = {}
    if sample_size is None or sample_size < 1:
        errors["sample_size"] = "Count at least one fruit."
    elif sample_size > MAX_SAMPLE:
        errors["sample_size"] = f"A sample is at most {MAX_SAMPLE:,} fruit."
    for name, value, (low, high), unit in (("brix", brix, BRIX_RANGE, "°Brix"),
                                           ("firmness_kg", firmness_kg, FIRMNESS_RANGE, "kg")):
        if value is not None and not low <= value <= high:
            errors[name] = f"Enter a value from {low} to {high} {unit}; {value} is out of range."
    if any(count < 0 for count in defects.values()):
        errors["defects"] = "A defect count cannot be negative."
    elif "sample_size" not in errors:
        over = [f"{defect.name} ({count})" for defect, count in defects.items() if count > sample_size]
        if over:
            errors["defects"] = f"More fruit with a defect than the {sample_size} sampled: {', '.join(over)}."
    wrong_fruit = [d.name for d in defects if d.fruit_type and d.fruit_type != batch.fruit_type]
    if wrong_fruit:
        errors["defects"] = f"Not a defect of {batch.get_fruit_type_display().lower()}: {', '.join(wrong_fruit)}."
    retired = [d.code for d in defects if not d.active]
    if retired:
        errors.setdefault("defects", f"No longer in the catalogue: {', '.join(retired)}.")
    if result not in QCResult.values:
        errors["result"] = f"'{result}' is not a QC result; use pass, downgrade or reject."
    return errors


def record_inspection(batch, *, sample_size, result, defects=None, brix=None, firmness_kg=None, notes="", by=None,
                      inspected_at=None, idempotency_key=None):
    """A QC sample of a received or grading batch. `defects` maps DefectType to the count found.

    `inspected_at` (default now) is for a sample counted on paper and typed in later: not in the future,
    not before the batch arrived.

    One history row records it; a reject then rejects the batch through transition(), its reason the top defects.
    The database refuses a count above the sample too (a trigger), whoever writes it.
    """
    defects = {defect: count for defect, count in (defects or {}).items() if count}
    errors = _check_inspection(batch, sample_size, result, defects, brix, firmness_kg)
    now = timezone.now()
    inspected_at = inspected_at or now
    if inspected_at > now + CLOCK_SKEW:
        errors["inspected_at"] = "The inspection time cannot be in the future."
    elif inspected_at < batch.intake_date:
        errors["inspected_at"] = "The inspection cannot be before the batch arrived."
    with transaction.atomic():
        batch = _lock(batch)
        # A second press queued behind the first on the batch's lock: the first's inspection answers it, even when
        # it rejected the batch (record_inspection_once turns this into that inspection).
        if idempotency_key and QCInspection.objects.filter(idempotency_key=idempotency_key).exists():
            raise IntegrityError("An inspection with this idempotency key was recorded a moment ago.")
        if batch.status not in QC_STATUSES:
            errors.setdefault("status", f"QC inspects received or grading batches; this one is {batch.status}.")
        inspection = QCInspection(batch=batch, inspector=by, inspected_at=inspected_at, sample_size=sample_size,
                                  brix=brix, firmness_kg=firmness_kg, result=result, notes=(notes or "").strip(),
                                  idempotency_key=idempotency_key or None)
        raise_if_invalid(inspection, errors, exclude=["batch", "inspector"])
        inspection.save()
        QCDefect.objects.bulk_create(
            [QCDefect(inspection=inspection, defect_type=defect, count=count) for defect, count in defects.items()]
        )
        top = sorted(defects.items(), key=lambda item: (-item[1], item[0].code))[:3]
        _history(batch, BatchHistory.Event.QC, by, payload=records.qc_payload(
            inspection_id=inspection.pk, result=result, sample_size=sample_size,
            defects={defect.code: count for defect, count in top},
        ))
        _save(batch, [])
        if result == QCResult.REJECT:
            reason = records.qc_reject_reason([(defect.name, count) for defect, count in top], sample_size)
            transition(batch, Status.REJECTED, by=by, reason=reason)
    return inspection


def record_inspection_once(idempotency_key, batch, **inspection):
    """record_inspection for a form pressed twice or a client that retries. Returns (inspection, created)."""
    identity = {"batch_id": batch.pk, "sample_size": inspection.get("sample_size"), "result": inspection.get("result")}
    return create_once(QCInspection, idempotency_key, identity,
                       lambda: record_inspection(batch, **inspection, idempotency_key=idempotency_key),
                       thing="inspection")
