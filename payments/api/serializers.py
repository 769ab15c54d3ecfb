from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import CharField, ModelSerializer, RefuseReadOnlyFieldsMixin
from growers.api.serializers import GrowerRefSerializer
from growers.models import FruitType, Grower
from pools.models import Pool, PoolStatus

from ..models import (
    Grade,
    GrowerPayment,
    NegativeDecision,
    PaymentRun,
    PaymentRunLine,
    PaymentType,
    PriceAgreement,
    RemittanceAdvice,
    RunStatus,
)
from ..services import validation_issues


class GrowerPaymentSerializer(serializers.ModelSerializer):
    grower = GrowerRefSerializer(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    reverses = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The payment this one reverses (id); null for an ordinary payment.",
    )
    reversed_by = serializers.SerializerMethodField(help_text="The payment that reverses this one (id), or null.")
    pool = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                              help_text="The pool the payment was made against (id), or null.")

    class Meta:
        model = GrowerPayment
        fields = ["id", "grower", "payment_type", "amount", "reference", "paid_date", "notes",
                  "created_by", "created_at", "reverses", "reversed_by", "pool"]
        read_only_fields = fields


    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_reversed_by(self, payment):
        reversal = payment.reversal
        return reversal.pk if reversal else None


class PaymentCreateSerializer(serializers.Serializer):
    grower = serializers.PrimaryKeyRelatedField(queryset=Grower.objects.all())
    payment_type = serializers.ChoiceField(choices=PaymentType.choices)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2,
        help_text="In the company's currency. Advances, finals and deductions are positive; an adjustment may be "
                  "negative but not zero.",
    )
    reference = CharField(max_length=64, help_text="Unique, e.g. the bank transfer's reference.")
    paid_date = serializers.DateField()
    notes = CharField(required=False, allow_blank=True, max_length=5000)
    pool = serializers.PrimaryKeyRelatedField(
        queryset=Pool.objects.filter(status=PoolStatus.OPEN), required=False, allow_null=True, default=None,
        help_text="An open pool the payment (an advance, usually) is made against.",
    )


class PriceAgreementSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    fruit_type = serializers.ChoiceField(choices=FruitType.choices)
    grade = serializers.ChoiceField(choices=Grade.choices)
    # Above zero (a check constraint); its smallest step as min_value lets the schema state it.
    price_per_kg = serializers.DecimalField(
        max_digits=10, decimal_places=4, min_value=Decimal("0.0001"),
        error_messages={"min_value": "The price per kg must be more than zero."},
    )

    class Meta:
        model = PriceAgreement
        fields = ["id", "fruit_type", "variety", "grade", "valid_from", "valid_to", "price_per_kg", "notes",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]



class PriceAgreementUpdateSerializer(PriceAgreementSerializer):
    # What an agreement prices, and from when, is fixed; end it and make a new one instead.
    fruit_type = serializers.ChoiceField(choices=FruitType.choices, read_only=True)
    grade = serializers.ChoiceField(choices=Grade.choices, read_only=True)

    class Meta(PriceAgreementSerializer.Meta):
        read_only_fields = [*PriceAgreementSerializer.Meta.read_only_fields, "variety", "valid_from"]


class ReverseSerializer(serializers.Serializer):
    reason = CharField(max_length=2000, help_text="Why the payment is reversed; kept on the reversal.")


class PaymentRunLineSerializer(serializers.ModelSerializer):
    grower = GrowerRefSerializer(read_only=True)
    decision = serializers.ChoiceField(choices=NegativeDecision.choices, read_only=True)
    breakdown = serializers.JSONField(read_only=True, help_text=(
        "The settlement as prepared: grades (grade, kg, rate, value), charges (rule_id, name, kind, basis, rate, "
        "quantity, amount), net_kg, cartons, pallets, gross, charges_total, already_paid, final; decimals as "
        "strings."))

    class Meta:
        model = PaymentRunLine
        fields = ["id", "grower", "gross", "charges", "already_paid", "final", "decision", "breakdown"]
        read_only_fields = fields


class PaymentRunSerializer(serializers.ModelSerializer):
    pool = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = serializers.ChoiceField(choices=RunStatus.choices, read_only=True)
    prepared_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    posted_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    cancelled_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = PaymentRun
        fields = ["id", "reference", "pool", "status", "prepared_by", "prepared_at", "approved_by", "approved_at",
                  "posted_by", "posted_at", "cancelled_by", "cancelled_at"]
        read_only_fields = fields


class IssueSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    url = serializers.CharField(help_text="The page where it is fixed.")


class PaymentRunDetailSerializer(PaymentRunSerializer):
    lines = PaymentRunLineSerializer(many=True, read_only=True)
    issues = serializers.SerializerMethodField(help_text="What blocks approval (a draft run only); empty: none.")

    class Meta(PaymentRunSerializer.Meta):
        fields = [*PaymentRunSerializer.Meta.fields, "issues", "lines"]
        read_only_fields = fields

    @extend_schema_field(IssueSerializer(many=True))
    def get_issues(self, run):
        if run.status != RunStatus.DRAFT:
            return []
        return IssueSerializer(validation_issues(run), many=True).data


class PrepareRunSerializer(serializers.Serializer):
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all(), help_text="A closed pool (id).")


class CancelRunSerializer(serializers.Serializer):
    reason = CharField(max_length=2000, required=False, allow_blank=True)


class DecideSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The run line (id) whose negative final is decided.")
    decision = serializers.ChoiceField(choices=NegativeDecision.choices, help_text=(
        "carry_forward: a negative adjustment against the pool at posting; hold: not paid in this run; "
        "blank: undecided."))


class RemittanceAdviceSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number", read_only=True)
    grower = GrowerRefSerializer(read_only=True)
    pool = serializers.SlugRelatedField(slug_field="code", read_only=True)
    decision = serializers.ChoiceField(choices=NegativeDecision.choices, read_only=True)
    breakdown = serializers.JSONField(read_only=True, help_text="Every figure of the line, as on the payment run.")

    class Meta:
        model = RemittanceAdvice
        fields = ["id", "number", "run", "grower", "pool", "issued_at", "paid_date", "gross", "charges",
                  "already_paid", "final", "decision", "breakdown"]
        read_only_fields = fields
