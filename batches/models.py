from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
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
    # Where the fruit grew. Grower, fruit type and variety are the block's, copied here because the seed's
    # indexes and the reports read them on the batch. NULL only in a schema not yet migrated (0005 fills it).
    block = models.ForeignKey("growers.Block", on_delete=models.PROTECT, related_name="batches", null=True)
    # The season holding the local intake date. No index of its own: a season is a range of intake dates,
    # and the lists filter on ix_batches_intake_date.
    season = models.ForeignKey("seasons.Season", on_delete=models.PROTECT, related_name="batches", null=True,
                               db_index=False)
    # Received under mrl_gate=warn with no spray clearance for its block and season.
    # db_default: app servers still on the old code insert batches without this column during a deploy.
    without_clearance = models.BooleanField(default=False, db_default=False)
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
        # Weights, bins, block and harvest date change what a grower is owed: a manager corrects them, with a
        # reason (services.correct_batch); a clerk's change_batch covers notes, moves and pack-out.
        permissions = [("correct_batch", "Can correct a batch's weights, bins, block and harvest date")]
        indexes = [
            models.Index(fields=["grower", "harvest_date", "status"], name="ix_batches_grower_harvest_status"),
            models.Index(fields=["intake_date"], name="ix_batches_intake_date"),
            models.Index(fields=["fruit_type"], name="ix_batches_fruit_type"),
            # The dashboard's list of batches received without clearance: few rows, so a small partial index.
            models.Index(fields=["intake_date"], condition=Q(without_clearance=True),
                         name="ix_batches_without_clearance"),
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
        QC = "qc", "QC inspection"
        CORRECTED = "corrected", "Corrected"

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


OPEN_STATUSES = (Status.RECEIVED, Status.GRADING, Status.PACKING)
BIN_CODE_RE = r"^[A-Z0-9][A-Z0-9-]{0,31}$"


class BatchBin(models.Model):
    """A bin scanned at intake. A code is in at most one open batch at a time."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="bins", db_index=False)
    code = models.CharField(max_length=32)
    # True while the batch is received, grading or packing; the transition service clears it.
    open = models.BooleanField(default=True)

    class Meta:
        db_table = "batch_bins"
        ordering = ["id"]
        indexes = [models.Index(fields=["code"], name="ix_batch_bins_code")]
        constraints = [
            models.UniqueConstraint(fields=["batch", "code"], name="batch_bins_unique_in_batch"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(open=True), name="batch_bins_one_open_batch",
                violation_error_message="This bin is already in an open batch.",
            ),
            models.CheckConstraint(condition=Q(code__regex=BIN_CODE_RE), name="batch_bins_code_format"),
        ]

    def __str__(self):
        return self.code


class Severity(models.TextChoices):
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class DefectType(models.Model):
    """The company's catalogue of what QC counts: bruising, sunburn, codling moth..."""

    code = models.CharField(max_length=20, unique=True, validators=[
        RegexValidator(r"^[A-Z0-9][A-Z0-9-]{0,19}$", "Use 1 to 20 capital letters, digits or dashes, e.g. BRUISE."),
    ])
    name = models.CharField(max_length=100)
    fruit_type = models.CharField(max_length=20, choices=FruitType.choices, blank=True,
                                  help_text="Leave empty when the defect applies to any fruit.")
    severity = models.CharField(max_length=5, choices=Severity.choices, default=Severity.MINOR)
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "defect_types"
        ordering = ["fruit_type", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9][A-Z0-9-]{0,19}$"), name="defect_types_code_format",
            ),
            models.CheckConstraint(condition=Q(fruit_type="") | Q(fruit_type__in=FruitType.values),
                                   name="defect_types_fruit_type_valid"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="defect_types_severity_valid"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class QCResult(models.TextChoices):
    PASS = "pass", "Pass"
    DOWNGRADE = "downgrade", "Downgrade"
    REJECT = "reject", "Reject"


class QCInspection(models.Model):
    """A sample of a received batch, counted for defects."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="inspections")
    inspected_at = models.DateTimeField(default=timezone.now)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    sample_size = models.PositiveIntegerField(help_text="Fruit counted.")
    brix = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True, help_text="Sugar, °Brix.")
    firmness_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True,
                                      help_text="Pressure test, kg.")
    result = models.CharField(max_length=10, choices=QCResult.choices)
    notes = models.TextField(blank=True)
    # The form's hidden key or the API's Idempotency-Key: a second press of Save records nothing more.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)  # noqa: DJ001

    class Meta:
        db_table = "qc_inspections"
        ordering = ["-inspected_at", "-id"]
        indexes = [
            models.Index(fields=["inspected_at"], name="ix_qc_inspections_inspected_at"),
            # Not unique (the migration linter refuses a unique index on an existing table): record_inspection
            # checks the key under the batch's lock, which every inspection of the batch takes.
            models.Index(fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False),
                         name="ix_qc_inspections_idem_key"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sample_size__gte=1), name="qc_inspections_sample_positive"),
            models.CheckConstraint(condition=Q(result__in=QCResult.values), name="qc_inspections_result_valid"),
            models.CheckConstraint(condition=Q(brix__isnull=True) | Q(brix__range=(0, 40)),
                                   name="qc_inspections_brix_range"),
            models.CheckConstraint(condition=Q(firmness_kg__isnull=True) | Q(firmness_kg__range=(0, 30)),
                                   name="qc_inspections_firmness_range"),
        ]

    def __str__(self):
        return f"{self.batch_id} {self.result} at {self.inspected_at:%Y-%m-%d %H:%M}"


class QCDefect(models.Model):
    """How many fruit of an inspection's sample showed one defect."""

    inspection = models.ForeignKey(QCInspection, on_delete=models.CASCADE, related_name="defects")
    defect_type = models.ForeignKey(DefectType, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()

    class Meta:
        db_table = "qc_defects"
        ordering = ["-count", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "defect_type"], name="qc_defects_unique"),
            models.CheckConstraint(condition=Q(count__gte=1), name="qc_defects_count_positive"),
        ]

    def __str__(self):
        return f"{self.defect_type_id}: {self.count}"


# What a full bin of each fruit usually holds, net, at a South African packhouse: a standard bulk bin
# (about 1.2 x 1.0 x 0.6 m) of apples or pears holds 300-450 kg, of citrus 350-500 kg; stone fruit bruises
# and goes in shallower bins, 200-400 kg; table grapes are picked into lug crates of 5-25 kg, each counted as
# a "bin"; avocados and kiwifruit in bulk bins of 250-450 kg. docs/DATA_ENTRY.md keeps the reasoning.
DEFAULT_BIN_RANGES = {
    FruitType.APPLE: (Decimal("300"), Decimal("450")),
    FruitType.PEAR: (Decimal("300"), Decimal("450")),
    FruitType.CITRUS: (Decimal("350"), Decimal("500")),
    FruitType.STONE_FRUIT: (Decimal("200"), Decimal("400")),
    FruitType.GRAPE: (Decimal("5"), Decimal("25")),
    FruitType.AVOCADO: (Decimal("250"), Decimal("450")),
    FruitType.KIWIFRUIT: (Decimal("250"), Decimal("450")),
}


class BinWeightRange(models.Model):
    """The company's usual net kg per bin of one fruit; an intake outside it needs a confirmation.

    A fruit without a row uses DEFAULT_BIN_RANGES: the company changes only what differs.
    """

    fruit_type = models.CharField(max_length=20, choices=FruitType.choices, unique=True)
    min_net_kg = models.DecimalField("lowest net kg per bin", **KG)
    max_net_kg = models.DecimalField("highest net kg per bin", **KG)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        db_table = "bin_weight_ranges"
        ordering = ["fruit_type"]
        constraints = [
            models.CheckConstraint(condition=Q(min_net_kg__gt=0) & Q(max_net_kg__gt=F("min_net_kg")),
                                   name="bin_weight_range_ordered"),
        ]

    def __str__(self):
        return f"{self.get_fruit_type_display()}: {self.min_net_kg}-{self.max_net_kg} kg per bin"

    @classmethod
    def for_fruit(cls, fruit_type):
        """(lowest, highest) net kg per bin for the fruit: the company's row, or the default."""
        row = cls.objects.filter(fruit_type=fruit_type).values_list("min_net_kg", "max_net_kg").first()
        return row or DEFAULT_BIN_RANGES.get(fruit_type)

    @classmethod
    def all_ranges(cls):
        """{fruit_type: (lowest, highest)} for every fruit, defaults filled in."""
        ranges = dict(DEFAULT_BIN_RANGES)
        ranges.update({fruit: (low, high) for fruit, low, high
                       in cls.objects.values_list("fruit_type", "min_net_kg", "max_net_kg")})
        return ranges
