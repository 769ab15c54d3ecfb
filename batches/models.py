from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from growers.models import FruitType

KG = {"max_digits": 10, "decimal_places": 2}
ZERO_KG = Decimal("0.00")


class Status(models.TextChoices):
    RECEIVED = "received", "Received"
    GRADING = "grading", "Grading"
    PACKING = "packing", "Packing"
    PACKED = "packed", "Packed"
    DISPATCHED = "dispatched", "Dispatched"
    REJECTED = "rejected", "Rejected"


# The only moves a batch may make. Anything else is refused.
TRANSITIONS = {
    Status.RECEIVED: (Status.GRADING, Status.REJECTED),
    Status.GRADING: (Status.PACKING, Status.REJECTED),
    Status.PACKING: (Status.PACKED,),
    Status.PACKED: (Status.DISPATCHED,),
    Status.DISPATCHED: (),
    Status.REJECTED: (),
}
PACKOUT_FIELDS = ("class1_kg", "class2_kg", "class3_kg", "waste_kg")


def _packout_total():
    return sum((Coalesce(F(name), ZERO_KG) for name in PACKOUT_FIELDS[1:]), Coalesce(F(PACKOUT_FIELDS[0]), ZERO_KG))


class Batch(models.Model):
    """One delivery from a grower at a packhouse, followed to dispatch."""

    batch_code = models.CharField(max_length=32, unique=True, editable=False)
    # No index of its own: ix_batches_grower_harvest_status leads with grower.
    grower = models.ForeignKey("growers.Grower", on_delete=models.PROTECT, related_name="batches", db_index=False)
    packhouse = models.ForeignKey("packhouses.Packhouse", on_delete=models.PROTECT, related_name="batches")
    fruit_type = models.CharField(max_length=20, choices=FruitType.choices)
    variety = models.CharField(max_length=100)
    harvest_date = models.DateField()
    intake_date = models.DateTimeField(default=timezone.now)
    bin_count = models.PositiveIntegerField()
    gross_weight_kg = models.DecimalField(**KG)
    tare_weight_kg = models.DecimalField(**KG)
    net_weight_kg = models.GeneratedField(
        expression=F("gross_weight_kg") - F("tare_weight_kg"),
        output_field=models.DecimalField(**KG),
        db_persist=True,
    )
    class1_kg = models.DecimalField(**KG, null=True, blank=True)
    class2_kg = models.DecimalField(**KG, null=True, blank=True)
    class3_kg = models.DecimalField(**KG, null=True, blank=True)
    waste_kg = models.DecimalField(**KG, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    rejection_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    # Bumped by every change; an API client may send it back to refuse lost updates.
    version = models.PositiveIntegerField(default=1)
    # The integrator's Idempotency-Key of the intake that made it: a retried POST returns this batch.
    # NULL, not "", for none: the partial unique index below leaves NULLs out.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "batches"
        ordering = ["-intake_date", "-id"]
        verbose_name_plural = "batches"
        indexes = [
            models.Index(fields=["grower", "harvest_date", "status"], name="ix_batches_grower_harvest_status"),
            models.Index(fields=["intake_date"], name="ix_batches_intake_date"),
            models.Index(fields=["fruit_type"], name="ix_batches_fruit_type"),
        ]
        constraints = [
            # Partial: the many batches without a key cost the index nothing.
            models.UniqueConstraint(
                fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False),
                name="batches_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(bin_count__gt=0), name="batches_bins_positive"),
            models.CheckConstraint(
                condition=Q(gross_weight_kg__gte=0) & Q(tare_weight_kg__gte=0), name="batches_weights_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(tare_weight_kg__lt=F("gross_weight_kg")), name="batches_tare_below_gross",
                violation_error_message="The tare weight must be less than the gross weight.",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(class1_kg__isnull=True) | Q(class1_kg__gte=0))
                    & (Q(class2_kg__isnull=True) | Q(class2_kg__gte=0))
                    & (Q(class3_kg__isnull=True) | Q(class3_kg__gte=0))
                    & (Q(waste_kg__isnull=True) | Q(waste_kg__gte=0))
                ),
                name="batches_packout_non_negative",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(_packout_total(), F("gross_weight_kg") - F("tare_weight_kg")),
                name="batches_packout_within_net",
                violation_error_message="The pack-out adds up to more than the net weight.",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="batches_status_valid"),
            models.CheckConstraint(condition=Q(fruit_type__in=FruitType.values), name="batches_fruit_type_valid"),
            models.CheckConstraint(
                condition=~Q(status=Status.REJECTED) | ~Q(rejection_reason=""),
                name="batches_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.PACKED, Status.DISPATCHED]) | Q(class1_kg__isnull=False),
                name="batches_packed_has_packout",
            ),
        ]

    def __str__(self):
        return self.batch_code

    @property
    def has_packout(self):
        return self.class1_kg is not None

    @property
    def packout_kg(self):
        if not self.has_packout:
            return None
        return sum((getattr(self, name) or ZERO_KG) for name in PACKOUT_FIELDS)

    @property
    def packout_percent(self):
        """Class 1 to 3 kg as a share of net kg, or None before pack-out."""
        if not self.has_packout or not self.net_weight_kg:
            return None
        packed = sum((getattr(self, name) or ZERO_KG) for name in PACKOUT_FIELDS[:3])
        return (packed * 100 / self.net_weight_kg).quantize(Decimal("0.1"))

    def allowed_transitions(self):
        return TRANSITIONS[Status(self.status)]


class BatchHistory(models.Model):
    """Append-only: one row for every change to a batch, written in the same transaction."""

    class Event(models.TextChoices):
        CREATED = "created", "Created"
        STATUS_CHANGED = "status_changed", "Status changed"
        WEIGHED = "weighed", "Weighed"
        PACKOUT = "packout", "Pack-out recorded"
        EDITED = "edited", "Edited"
        NOTE = "note", "Note"

    # No index of its own: ix_batch_history_batch_recorded leads with batch.
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="history", db_index=False)
    event = models.CharField(max_length=20, choices=Event.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    # PROTECT, not SET_NULL: history rows may never be updated, not even by a cascade.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
    )

    class Meta:
        db_table = "batch_history"
        ordering = ["recorded_at", "id"]
        verbose_name_plural = "batch history"
        indexes = [
            models.Index(fields=["batch", "recorded_at"], name="ix_batch_history_batch_recorded"),
        ]

    def __str__(self):
        return f"{self.batch_id} {self.event} at {self.recorded_at:%Y-%m-%d %H:%M}"


class BatchCodeCounter(models.Model):
    """The last sequence number used per packhouse and local day, for batch codes."""

    packhouse = models.ForeignKey("packhouses.Packhouse", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "batch_code_counters"
        constraints = [models.UniqueConstraint(fields=["packhouse", "day"], name="batch_code_counters_unique")]

    def __str__(self):
        return f"{self.packhouse_id} {self.day}: {self.last}"
