"""batches cannot import pallets: pallets guards a batch's pack-out correction from here (the trigger of
migration 0001 is the backstop)."""

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.db.models.signals import pre_save
from django.dispatch import receiver

from batches.models import Batch
from batches.models import Status as BatchStatus
from batches.signals import before_transition

from .models import Grade, PalletLine

GRADE_FIELDS = {f"{grade}_kg": grade for grade in Grade.values}


@receiver(pre_save, sender=Batch, dispatch_uid="pallets_packout_covers_pallets")
def packout_covers_pallets(sender, instance, update_fields=None, **kwargs):
    if instance._state.adding or (update_fields is not None and not set(update_fields) & set(GRADE_FIELDS)):
        return
    on = _on_pallets(instance.pk)
    errors = {}
    for field, grade in GRADE_FIELDS.items():
        new = getattr(instance, field)
        if on.get(grade) and (new is None or new < on[grade]):
            errors[field] = (f"{on[grade]} kg of {Grade(grade).label.lower()} of this batch are already on pallets; "
                             "take them off the pallets before lowering its pack-out.")
    if errors:
        raise ValidationError(errors)


def _on_pallets(batch_id):
    rows = PalletLine.objects.filter(batch_id=batch_id).values("grade").annotate(kg=Sum("kg")).order_by()
    return {row["grade"]: row["kg"] for row in rows}


@receiver(before_transition, dispatch_uid="pallets_batch_dispatched_with_its_load")
def dispatched_with_its_load(sender, batch, to_status, by_dispatch=False, **kwargs):
    """A batch on pallets leaves with its pallets: its move to dispatched is the load's, never a button's."""
    if to_status != BatchStatus.DISPATCHED or by_dispatch:
        return None
    if PalletLine.objects.filter(batch_id=batch.pk).exists():
        return (f"Batch {batch.batch_code} is on pallets: it is dispatched when the last load carrying its "
                "pallets is dispatched, not by hand.")
    return None
