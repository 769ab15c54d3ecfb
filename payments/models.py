from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone

from growers.models import FruitType


class Grade(models.TextChoices):
    CLASS1 = "class1", "Class 1"
    CLASS2 = "class2", "Class 2"
    CLASS3 = "class3", "Class 3"
    UNGRADED = "ungraded", "Ungraded"


OVERLAP_MESSAGE = "Another price agreement for this fruit, variety and grade overlaps these dates."


class ValidityRange(Func):
    """daterange(valid_from, valid_to, '[]'): both ends inclusive, an empty valid_to is open-ended."""

    function = "DATERANGE"
    output_field = DateRangeField()


class PriceAgreement(models.Model):
    """What a kilogram of one fruit, variety and grade is worth over a period.

    A blank variety means any variety; an agreement for the batch's own
    variety beats it. Agreements for the same fruit, variety and grade may not
    overlap in time: the database refuses it.
    """

    fruit_type = models.CharField(max_length=20, choices=FruitType.choices)
    variety = models.CharField(max_length=100, blank=True, help_text="Blank means any variety.")
    grade = models.CharField(max_length=10, choices=Grade.choices)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Last day it applies; blank means open-ended.")
    price_per_kg = models.DecimalField(max_digits=10, decimal_places=4)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "price_agreements"
        ordering = ["fruit_type", "variety", "grade", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price_per_kg__gt=0), name="price_agreements_price_positive",
                violation_error_message="The price per kg must be more than zero.",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="price_agreements_valid_to_after_from",
                violation_error_message="The agreement cannot end before it starts.",
            ),
            models.CheckConstraint(condition=Q(grade__in=Grade.values), name="price_agreements_grade_valid"),
            models.CheckConstraint(
                condition=Q(fruit_type__in=FruitType.values), name="price_agreements_fruit_type_valid",
            ),
            ExclusionConstraint(
                name="price_agreements_no_overlap",
                expressions=[
                    ("fruit_type", RangeOperators.EQUAL),
                    ("variety", RangeOperators.EQUAL),
                    ("grade", RangeOperators.EQUAL),
                    (ValidityRange("valid_from", "valid_to", Value("[]")), RangeOperators.OVERLAPS),
                ],
                violation_error_message=OVERLAP_MESSAGE,
            ),
        ]

    def __str__(self):
        variety = self.variety or "any variety"
        return f"{self.get_fruit_type_display()} {variety} {self.get_grade_display()} from {self.valid_from}"

    def clean(self):
        # Checked here, not only by the constraint: validating the no-overlap
        # constraint with an inverted range would make PostgreSQL raise.
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "The agreement cannot end before it starts."})


class PaymentType(models.TextChoices):
    ADVANCE = "advance", "Advance"
    FINAL = "final", "Final"
    DEDUCTION = "deduction", "Deduction"
    ADJUSTMENT = "adjustment", "Adjustment"


class GrowerPayment(models.Model):
    """Money settled with a grower. Never edited or deleted; a mistake is corrected by an adjustment.

    `amount` is what the entry settles of the grower's balance, in the
    company's currency: advances, finals and deductions (charges withheld)
    are positive; an adjustment may be either sign but not zero. The
    database refuses UPDATE and DELETE (see migration 0002).
    """

    # No index of its own: ix_grower_payments_grower_date leads with grower.
    grower = models.ForeignKey("growers.Grower", on_delete=models.PROTECT, related_name="payments", db_index=False)
    payment_type = models.CharField(max_length=20, choices=PaymentType.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reference = models.CharField(max_length=64, unique=True)
    paid_date = models.DateField()
    notes = models.TextField(blank=True)
    # PROTECT, not SET_NULL: the row may never be updated, not even by a cascade.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True, editable=False)
    # A reversal (services.reverse_payment) names the payment it undoes: one reversal per payment (unique), an
    # adjustment of the opposite amount to the same grower (CHECK below and migration 0003's trigger).
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                    related_name="reversed_by")
    # Advances are paid against a pool (pools.settlement counts them as already paid). PROTECT: see created_by.
    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, null=True, blank=True, related_name="payments")

    class Meta:
        db_table = "grower_payments"
        ordering = ["-paid_date", "-id"]
        indexes = [
            models.Index(fields=["grower", "paid_date"], name="ix_grower_payments_grower_date"),
            models.Index(fields=["paid_date"], name="ix_grower_payments_paid_date"),
            models.Index(fields=["created_at"], name="ix_grower_payments_created_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(payment_type=PaymentType.ADJUSTMENT) & ~Q(amount=0)) | Q(amount__gt=0),
                name="grower_payments_amount_sign",
                violation_error_message="Advances, finals and deductions are positive; an adjustment is not zero.",
            ),
            models.CheckConstraint(
                condition=Q(payment_type__in=PaymentType.values), name="grower_payments_type_valid",
            ),
            models.CheckConstraint(condition=~Q(reference=""), name="grower_payments_reference_present"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(payment_type=PaymentType.ADJUSTMENT),
                name="grower_payments_reversal_is_adjustment",
                violation_error_message="A reversal is an adjustment.",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.get_payment_type_display()} {self.amount}"

    @property
    def reversal(self):
        """The payment that reverses this one, or None."""
        try:
            return self.reversed_by
        except GrowerPayment.DoesNotExist:
            return None


class RunStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    POSTED = "posted", "Posted"
    CANCELLED = "cancelled", "Cancelled"


class NegativeDecision(models.TextChoices):
    UNDECIDED = "", "Not decided"
    CARRY_FORWARD = "carry_forward", "Carry forward"
    HOLD = "hold", "Hold"


class PaymentRun(models.Model):
    """The payment of a closed pool's settlement: prepared, approved by a second user, posted once.

    Its lines keep the figures that were approved, whatever moves later (docs/SETTLEMENT.md, "Payment runs").
    """

    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="payment_runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.DRAFT,
                              db_default=RunStatus.DRAFT)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    posted_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payment_runs"
        ordering = ["-prepared_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="payment_runs_status_valid"),
            # The second pair of eyes, in the database too.
            models.CheckConstraint(condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
                                   name="payment_runs_approver_is_not_preparer",
                                   violation_error_message="A run is approved by someone other than its preparer."),
            models.CheckConstraint(
                condition=Q(status=RunStatus.DRAFT) | Q(status=RunStatus.CANCELLED)
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="payment_runs_approved_before_posted",
            ),
            models.CheckConstraint(condition=~Q(status=RunStatus.POSTED) | Q(posted_at__isnull=False),
                                   name="payment_runs_posted_has_time"),
            # One live run per pool: two runs of one pool could pay its growers twice.
            models.UniqueConstraint(fields=["pool"], condition=~Q(status=RunStatus.CANCELLED),
                                    name="payment_runs_one_live_per_pool",
                                    violation_error_message="This pool already has a payment run."),
        ]

    def __str__(self):
        return f"{self.reference} {self.get_status_display()}"

    @property
    def reference(self) -> str:
        return f"PR-{self.pk}"


class PaymentRunLine(models.Model):
    """One grower's settlement as prepared: the breakdown (JSON) and its totals as Decimal columns."""

    run = models.ForeignKey(PaymentRun, on_delete=models.CASCADE, related_name="lines")
    grower = models.ForeignKey("growers.Grower", on_delete=models.PROTECT, related_name="+")
    gross = models.DecimalField(max_digits=14, decimal_places=2)
    charges = models.DecimalField(max_digits=14, decimal_places=2)
    already_paid = models.DecimalField(max_digits=14, decimal_places=2)
    final = models.DecimalField(max_digits=14, decimal_places=2)
    breakdown = models.JSONField()
    decision = models.CharField(max_length=20, choices=NegativeDecision.choices, blank=True, default="",
                                db_default="")

    class Meta:
        db_table = "payment_run_lines"
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "grower"], name="payment_run_lines_one_per_grower"),
            models.CheckConstraint(condition=Q(final=F("gross") - F("charges") - F("already_paid")),
                                   name="payment_run_lines_final_adds_up"),
            models.CheckConstraint(condition=Q(decision="") | Q(final__lt=0),
                                   name="payment_run_lines_decision_only_when_negative"),
            models.CheckConstraint(condition=Q(decision__in=NegativeDecision.values),
                                   name="payment_run_lines_decision_valid"),
        ]

    def __str__(self):
        return f"{self.run_id} {self.grower_id} {self.final}"

    @property
    def held(self):
        return self.decision == NegativeDecision.HOLD


class PaymentRunHistory(models.Model):
    """What happened to a run, by whom. Append-only (migration)."""

    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="history")
    event = models.CharField(max_length=30)
    payload = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        db_table = "payment_run_history"
        ordering = ["-recorded_at", "-id"]

    def __str__(self):
        return f"{self.run_id} {self.event}"


class RemittanceCounter(models.Model):
    """The company's last remittance advice number: one row, locked by the UPDATE that takes the next."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_number = models.BigIntegerField(default=0)

    class Meta:
        db_table = "remittance_counter"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="remittance_counter_one_row")]

    def __str__(self):
        return str(self.last_number)


class RemittanceAdvice(models.Model):
    """What a grower was paid by a posted run and why, figure by figure. Immutable (migration's trigger).

    It copies the line's figures rather than pointing at them: the document stays what was sent.
    """

    number = models.BigIntegerField(unique=True)
    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="remittances")
    grower = models.ForeignKey("growers.Grower", on_delete=models.PROTECT, related_name="remittances")
    pool = models.ForeignKey("pools.Pool", on_delete=models.PROTECT, related_name="remittances")
    issued_at = models.DateTimeField(default=timezone.now)
    paid_date = models.DateField()
    gross = models.DecimalField(max_digits=14, decimal_places=2)
    charges = models.DecimalField(max_digits=14, decimal_places=2)
    already_paid = models.DecimalField(max_digits=14, decimal_places=2)
    final = models.DecimalField(max_digits=14, decimal_places=2)
    decision = models.CharField(max_length=20, choices=NegativeDecision.choices, blank=True, default="")
    breakdown = models.JSONField()

    class Meta:
        db_table = "remittance_advices"
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "grower"], name="remittance_advices_one_per_grower_and_run"),
            models.CheckConstraint(condition=Q(number__gt=0), name="remittance_advices_number_positive"),
        ]
        indexes = [models.Index(fields=["grower", "number"], name="ix_remittances_grower_number")]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"RA-{self.number:06d}"
