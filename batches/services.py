"""The only code that writes batches. Every change writes exactly one history row, in the same transaction."""

from datetime import timedelta
from decimal import Decimal

import psycopg.errors
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from core import audit
from core.cache import bump
from core.errors import Conflict
from core.idempotency import create_once
from core.services import apply_changes, raise_if_invalid
from core.tenancy import company_date, company_today

from . import records
from .models import PACKOUT_FIELDS, TRANSITIONS, Batch, BatchHistory, Status
from .signals import intake_changed

# What daily_grower_intake sums: an edit of these makes the view stale.
INTAKE_VIEW_FIELDS = {"fruit_type", "bin_count", "gross_weight_kg", "tare_weight_kg"}
EDITABLE = ("fruit_type", "variety", "harvest_date", "bin_count", "gross_weight_kg", "tare_weight_kg", "notes")
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


def record_intake(*, grower, packhouse, fruit_type, variety, harvest_date, bin_count,
                  gross_weight_kg, tare_weight_kg, notes="", by=None, intake_date=None, idempotency_key=None):
    """A delivery arrives: a new batch in 'received', with its code and its 'created' history row.

    `idempotency_key` is stored with the batch; record_intake_once is the way to use one.
    """
    now = timezone.now()
    intake_date = intake_date or now
    errors = {}
    if intake_date > now + CLOCK_SKEW:
        errors["intake_date"] = "The intake time cannot be in the future."
    if not grower.active:
        errors["grower"] = f"{grower} is inactive; a manager can reactivate the grower."
    if not packhouse.active:
        errors["packhouse"] = f"{packhouse} is inactive."
    if harvest_date and harvest_date > company_today():
        errors["harvest_date"] = "The harvest date cannot be in the future."
    elif harvest_date and harvest_date > company_date(intake_date):
        errors["harvest_date"] = "The fruit cannot be harvested after it was delivered."
    _check_weights_and_bins(gross_weight_kg, tare_weight_kg, bin_count, errors)

    batch = Batch(
        grower=grower, packhouse=packhouse, fruit_type=fruit_type, variety=(variety or "").strip(),
        harvest_date=harvest_date, intake_date=intake_date, bin_count=bin_count,
        gross_weight_kg=gross_weight_kg, tare_weight_kg=tare_weight_kg, notes=notes or "", created_by=by,
        idempotency_key=idempotency_key or None,
    )
    _full_clean(batch, errors)

    with transaction.atomic():
        batch.batch_code = _next_batch_code(packhouse, company_date(intake_date))
        batch.save()
        batch.refresh_from_db(fields=["net_weight_kg"])
        _history(batch, BatchHistory.Event.CREATED, by, to_status=Status.RECEIVED, payload=records.created_payload(
            batch_code=batch.batch_code, grower_code=grower.code, packhouse_code=packhouse.code,
            bin_count=bin_count, gross_weight_kg=gross_weight_kg, tare_weight_kg=tare_weight_kg,
        ))
        bump("batches")
        intake_changed.send(sender=Batch, batch=batch)
    return batch


# What must match for a replayed Idempotency-Key to be the same delivery.
INTAKE_IDENTITY = ("grower", "packhouse", "fruit_type", "variety", "harvest_date", "bin_count",
                   "gross_weight_kg", "tare_weight_kg")


def record_intake_once(idempotency_key, **intake):
    """record_intake for a client that may send the same delivery twice. Returns (batch, created)."""
    identity = {name: intake.get(name) for name in INTAKE_IDENTITY}
    identity["variety"] = (identity["variety"] or "").strip()
    return create_once(Batch, idempotency_key, identity,
                       lambda: record_intake(**intake, idempotency_key=idempotency_key), thing="delivery")


def _full_clean(batch, errors):
    """Field validation (choices, lengths, digits) plus the rules gathered so far, raised together.

    The CHECK constraints are not validated again in Python: each has a rule
    in this module with a message for its field, and the database enforces
    them anyway. Re-validating them would cost a query each on every intake.
    """
    raise_if_invalid(batch, errors, constraints=False, exclude=[
        "batch_code", "grower", "packhouse", "created_by", "net_weight_kg", "idempotency_key",
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


def transition(batch, to_status, *, by=None, reason="", expected_version=None):
    """Move a batch to its next status, along the allowed moves only."""
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

        batch.status = to_status
        fields = ["status"]
        if to_status == Status.REJECTED:
            batch.rejection_reason = reason
            fields.append("rejection_reason")
        _save(batch, fields)
        _history(batch, BatchHistory.Event.STATUS_CHANGED, by, from_status=from_status, to_status=to_status,
                 payload=records.status_changed_payload(reason))
        audit.event_on_commit(
            "batch.transitioned", user=by, batch=batch.pk, batch_code=batch.batch_code,
            from_status=from_status.value, to_status=to_status, reason=reason or "-",
        )
    return batch


def record_packout(batch, *, class1_kg, class2_kg, class3_kg, waste_kg, by=None, expected_version=None):
    """The kg per class after grading. Together they may not exceed the net kg."""
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
        previous = {name: getattr(batch, name) for name in PACKOUT_FIELDS}
        for name, value in values.items():
            setattr(batch, name, value)
        _save(batch, list(PACKOUT_FIELDS))
        _history(batch, BatchHistory.Event.PACKOUT, by, payload=records.packout_payload(values, previous))
    return batch


def edit(batch, changes, *, by=None, expected_version=None):
    """Correct a batch's details. The history row holds each changed field, old and new."""
    with transaction.atomic():
        batch = _lock(batch, expected_version)
        if batch.status in FROZEN_STATUSES:
            raise ValidationError({"status": f"A {batch.status} batch can no longer be edited."})
        changed = apply_changes(batch, changes, EDITABLE)
        if not changed:
            return batch
        errors = {}
        _check_weights_and_bins(batch.gross_weight_kg, batch.tare_weight_kg, batch.bin_count, errors)
        if "harvest_date" in changed and batch.harvest_date > company_date(batch.intake_date):
            errors["harvest_date"] = "The fruit cannot be harvested after it was delivered."
        if batch.has_packout and not errors:
            net = batch.gross_weight_kg - batch.tare_weight_kg
            if batch.packout_kg > net:
                errors["gross_weight_kg"] = (
                    f"The recorded pack-out ({batch.packout_kg} kg) exceeds the new net {net} kg."
                )
        _full_clean(batch, errors)
        _save(batch, list(changed))
        batch.refresh_from_db(fields=["net_weight_kg"])
        _history(batch, BatchHistory.Event.EDITED, by, payload=records.edited_payload(changed))
        if set(changed) & INTAKE_VIEW_FIELDS:
            intake_changed.send(sender=Batch, batch=batch)
    return batch
