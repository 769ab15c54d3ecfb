from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from growers.models import FruitType
from pallets.models import Grade

POOL_CODE_RE = r"^[A-Z0-9][A-Z0-9-]{0,19}$"


class PoolStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Pool(models.Model):
    """A season's fruit (and variety; blank = every variety) whose market returns are shared by kg and grade.

    An open pool's batches are found by the variety-beats-blank rule (pools.membership); closing it writes
    them to pool_batches, where the unique batch keeps later pools from taking them.
    """

    season = models.ForeignKey("seasons.Season", on_delete=models.PROTECT, related_name="pools")
    code = models.CharField(max_length=20, unique=True, validators=[RegexValidator(
        POOL_CODE_RE, "Use 1 to 20 capital letters, digits or dashes, e.g. 2026-APPLE-GALA.")])
    name = models.CharField(max_length=100)
    fruit_type = models.CharField(max_length=20, choices=FruitType.choices)
    variety = models.CharField(max_length=100, blank=True, help_text="Blank means every variety.")
    status = models.CharField(max_length=10, choices=PoolStatus.choices, default=PoolStatus.OPEN,
                              db_default=PoolStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "pools"
        ordering = ["-season__start_date", "code"]
        constraints = [
            # One pool per season, fruit and variety: otherwise a batch would match two.
            models.UniqueConstraint(fields=["season", "fruit_type", "variety"], name="pools_one_per_variety",
                                    violation_error_message="This season already has a pool for this fruit and "
                                                            "variety."),
            models.CheckConstraint(condition=Q(code__regex=POOL_CODE_RE), name="pools_code_format"),
            models.CheckConstraint(condition=Q(status__in=PoolStatus.values), name="pools_status_valid"),
            models.CheckConstraint(condition=Q(fruit_type__in=FruitType.values), name="pools_fruit_type_valid"),
            models.CheckConstraint(
                condition=Q(status=PoolStatus.OPEN, closed_at__isnull=True)
                | Q(status=PoolStatus.CLOSED, closed_at__isnull=False),
                name="pools_closed_at_iff_closed",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_open(self):
        return self.status == PoolStatus.OPEN


class PoolBatch(models.Model):
    """A closed pool's batches. `batch` is unique: a batch belongs to one pool once one has closed with it.

    A table, not a pool_id on batches (DESIGN.md): batches sit below pools in the layers (docs/SETTLEMENT.md).
    """

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="memberships")
    batch = models.OneToOneField("batches.Batch", on_delete=models.PROTECT, related_name="pool_membership")

    class Meta:
        db_table = "pool_batches"

    def __str__(self):
        return f"{self.pool_id}: {self.batch_id}"


class PoolIncome(models.Model):
    """Money a pool's fruit earned, per grade. Never edited or deleted: a mistake is a reversing entry."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="income")
    grade = models.CharField(max_length=6, choices=Grade.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    received_on = models.DateField()
    reference = models.CharField(max_length=64)
    reason = models.TextField(blank=True, help_text="Why, for a negative (reversing) entry.")
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                    related_name="reversed_by")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "pool_income"
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="pool_income_amount_not_zero"),
            models.CheckConstraint(condition=Q(grade__in=Grade.values), name="pool_income_grade_valid"),
            models.CheckConstraint(condition=~Q(reference=""), name="pool_income_reference_present"),
            models.CheckConstraint(condition=Q(amount__gt=0) | ~Q(reason=""), name="pool_income_negative_has_reason",
                                   violation_error_message="A negative entry says why."),
        ]

    def __str__(self):
        return f"{self.reference} {self.grade} {self.amount}"


class ChargeKind(models.TextChoices):
    PACKING = "packing", "Packing"
    COLD_STORAGE = "cold_storage", "Cold storage"
    LEVY = "levy", "Levy"
    TRANSPORT = "transport", "Transport"
    COMMISSION = "commission", "Commission"
    OTHER = "other", "Other"


class ChargeBasis(models.TextChoices):
    PER_KG_RECEIVED = "per_kg_received", "Per kg received (net)"
    PER_KG_PACKED = "per_kg_packed", "Per kg packed (classes 1–3)"
    PER_CARTON = "per_carton", "Per carton on pallets"
    PER_PALLET = "per_pallet", "Per pallet (the grower's share of each)"
    PERCENT_OF_INCOME = "percent_of_income", "Percent of gross"


class ChargeRule(models.Model):
    """A deduction from every grower of a pool: rate × the grower's quantity on `basis`."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="charges")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=ChargeKind.choices)
    basis = models.CharField(max_length=20, choices=ChargeBasis.choices)
    rate = models.DecimalField(max_digits=12, decimal_places=4,
                               help_text="Money per kg, carton or pallet; a percentage for percent of gross.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "charge_rules"
        ordering = ["pool", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="charge_rules_rate_positive",
                                   violation_error_message="The rate must be more than zero."),
            models.CheckConstraint(condition=~Q(basis=ChargeBasis.PERCENT_OF_INCOME) | Q(rate__lte=100),
                                   name="charge_rules_percent_at_most_100",
                                   violation_error_message="A percentage is at most 100."),
            models.CheckConstraint(condition=Q(kind__in=ChargeKind.values), name="charge_rules_kind_valid"),
            models.CheckConstraint(condition=Q(basis__in=ChargeBasis.values), name="charge_rules_basis_valid"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_basis_display()} {self.rate})"


class PoolHistory(models.Model):
    """What happened to a pool, by whom: created, closed, income, charges."""

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="history")
    event = models.CharField(max_length=30)
    payload = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        db_table = "pool_history"
        ordering = ["-recorded_at", "-id"]

    def __str__(self):
        return f"{self.pool_id} {self.event}"


class ClosingStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Not closed"


ACTIVE_CLOSING = [ClosingStatus.QUEUED, ClosingStatus.RUNNING]


class PoolClosing(models.Model):
    """A request to close a pool, run by the job worker (pools.tasks): what the page and the API poll.

    The row holds the durable state (queued, running, done, refused and why); the step a running close has
    reached lives in the cache (pools.closing): the close writes in one transaction that nobody else sees
    until it commits.
    """

    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="closings")
    status = models.CharField(max_length=10, choices=ClosingStatus.choices, default=ClosingStatus.QUEUED,
                              db_default=ClosingStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    batches = models.PositiveIntegerField(null=True, blank=True, help_text="Batches the pool closed with.")
    error = models.TextField(blank=True)

    class Meta:
        db_table = "pool_closings"
        ordering = ["-requested_at", "-id"]
        constraints = [
            # A second Close while one waits or runs is refused here, whatever the race.
            models.UniqueConstraint(fields=["pool"], condition=Q(status__in=ACTIVE_CLOSING),
                                    name="pool_closings_one_active_per_pool"),
            models.CheckConstraint(condition=Q(status__in=ClosingStatus.values), name="pool_closings_status_valid"),
        ]

    def __str__(self):
        return f"{self.pool_id} {self.status}"

    @property
    def active(self):
        return self.status in ACTIVE_CLOSING
