"""The only code that writes the defect catalogue, and the lookups QC pages and the API share.

Inspections themselves are written by batches.services.record_inspection: an
inspection locks its batch and may reject it, which is the batch services' job.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.cache import bump
from core.services import apply_changes, raise_if_invalid

from .models import DefectType, QCDefect, QCInspection, QCResult

DEFECT_TYPE_EDITABLE = ("name", "fruit_type", "severity", "active")


@transaction.atomic
def create_defect_type(*, code, name, fruit_type="", severity="minor", active=True):
    defect = DefectType(code=(code or "").strip().upper(), name=(name or "").strip(), fruit_type=fruit_type or "",
                        severity=severity, active=active)
    _save(defect)
    return defect


@transaction.atomic
def update_defect_type(defect, **changes):
    """Change anything but the code, which inspections' history rows name.

    A defect already counted keeps its fruit: moving it to another fruit would put old counts under a
    fruit they were never seen on. Retire it (active off) and add a new one instead.
    """
    # Checked before anything is set: a refused change must not linger on the caller's instance.
    if ("fruit_type" in changes and changes["fruit_type"] != defect.fruit_type
            and QCDefect.objects.filter(defect_type=defect).exists()):
        raise ValidationError({"fruit_type": "Inspections have counted this defect; its fruit can no longer change. "
                                             "Deactivate it and add a new one instead."})
    if not apply_changes(defect, changes, DEFECT_TYPE_EDITABLE):
        return defect
    _save(defect)
    return defect


def _save(defect):
    errors = {}
    if defect.code and DefectType.objects.filter(code=defect.code).exclude(pk=defect.pk).exists():
        errors["code"] = f"The catalogue already has a defect {defect.code}."
    if not defect.name:
        errors["name"] = "Name the defect."
    raise_if_invalid(defect, errors, constraints=False)
    try:
        with transaction.atomic():
            defect.save()
    except IntegrityError:
        # Another manager took the code between the check and the insert.
        raise ValidationError({"code": "This code was taken a moment ago; reload and try again."}) from None
    bump("defect_types")


def defects_for(fruit_type):
    """The active defects an inspector counts on this fruit: its own and those of any fruit, majors first."""
    return DefectType.objects.filter(Q(fruit_type=fruit_type) | Q(fruit_type=""), active=True).order_by(
        "severity", "name", "code",
    )


def passing_inspection_exists(batch):
    return batch.inspections.filter(result__in=(QCResult.PASS, QCResult.DOWNGRADE)).exists()


def inspections_of(batch):
    """The batch's inspections, newest first, each with its defects and `defect_percent` (all defects)."""
    inspections = list(QCInspection.objects.filter(batch=batch).select_related("inspector")
                       .prefetch_related("defects__defect_type"))
    for inspection in inspections:
        inspection.defect_count = sum(d.count for d in inspection.defects.all())
        inspection.defect_percent = inspection.defect_count * 100 / inspection.sample_size
    return inspections
