from decimal import Decimal

from rest_framework import serializers

from core.serializers import CharField
from growers.models import FruitType
from pallets.models import Grade
from seasons.models import Season

from ..closing import progress
from ..models import ChargeBasis, ChargeKind, ChargeRule, ClosingStatus, Pool, PoolClosing, PoolIncome, PoolStatus


class PoolSerializer(serializers.ModelSerializer):
    season = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = serializers.ChoiceField(choices=PoolStatus.choices, read_only=True)
    fruit_type = serializers.ChoiceField(choices=FruitType.choices, read_only=True)

    class Meta:
        model = Pool
        fields = ["id", "season", "code", "name", "fruit_type", "variety", "status", "created_at", "closed_at"]
        read_only_fields = fields


class PoolCreateSerializer(serializers.Serializer):
    season = serializers.PrimaryKeyRelatedField(queryset=Season.objects.all())
    code = CharField(max_length=20)
    name = CharField(max_length=100)
    fruit_type = serializers.ChoiceField(choices=FruitType.choices)
    variety = CharField(max_length=100, required=False, allow_blank=True,
                        help_text="Blank: every variety without a pool of its own in the season.")


class PoolIncomeSerializer(serializers.ModelSerializer):
    grade = serializers.ChoiceField(choices=Grade.choices)

    class Meta:
        model = PoolIncome
        fields = ["id", "pool", "grade", "amount", "received_on", "reference", "reason", "reverses", "created_at"]
        read_only_fields = fields


class PoolIncomeCreateSerializer(serializers.Serializer):
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all())
    grade = serializers.ChoiceField(choices=Grade.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2,
                                      help_text="Not zero; a negative entry reverses a mistake and needs a reason.")
    received_on = serializers.DateField()
    reference = CharField(max_length=64)
    reason = CharField(max_length=2000, required=False, allow_blank=True)


class ChargeRuleSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ChargeKind.choices)
    basis = serializers.ChoiceField(choices=ChargeBasis.choices)
    rate = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal("0.0001"),
                                    error_messages={"min_value": "The rate must be more than zero."})

    class Meta:
        model = ChargeRule
        fields = ["id", "pool", "name", "kind", "basis", "rate", "created_at"]
        read_only_fields = ["id", "created_at"]


class GradeLineSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=Grade.choices)
    kg = serializers.DecimalField(max_digits=14, decimal_places=2)
    rate = serializers.DecimalField(max_digits=30, decimal_places=10, allow_null=True,
                                    help_text="income / kg of the grade over the pool (10 places shown).")
    value = serializers.DecimalField(max_digits=30, decimal_places=6, help_text="kg × rate, before rounding.")


class ChargeLineSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ChargeKind.choices)
    basis = serializers.ChoiceField(choices=ChargeBasis.choices)
    rate = serializers.DecimalField(max_digits=12, decimal_places=4)
    quantity = serializers.DecimalField(max_digits=30, decimal_places=6)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class GrowerSettlementSerializer(serializers.Serializer):
    grower_id = serializers.IntegerField()
    grower_code = serializers.CharField()
    grower_name = serializers.CharField()
    batches = serializers.IntegerField()
    net_kg = serializers.DecimalField(max_digits=14, decimal_places=2)
    cartons = serializers.IntegerField()
    pallets = serializers.DecimalField(max_digits=30, decimal_places=6, help_text="Σ of the grower's pallet shares.")
    grades = GradeLineSerializer(many=True)
    gross = serializers.DecimalField(max_digits=14, decimal_places=2)
    charges = ChargeLineSerializer(many=True)
    charges_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    already_paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    final = serializers.DecimalField(max_digits=14, decimal_places=2)


class PoolClosingSerializer(serializers.ModelSerializer):
    """A queued close and how far it has got: poll `progress_url` until `status` is done or failed."""

    status = serializers.ChoiceField(choices=ClosingStatus.choices, read_only=True)
    step = serializers.SerializerMethodField(help_text="The step a running close is on (writing, recording), blank "
                                                       "otherwise or when not known.")
    steps_done = serializers.SerializerMethodField()
    steps_total = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(help_text="What the close is doing, or why the pool was not closed.")
    progress_url = serializers.SerializerMethodField()

    class Meta:
        model = PoolClosing
        fields = ["id", "pool", "status", "step", "steps_done", "steps_total", "message", "batches",
                  "requested_at", "started_at", "finished_at", "progress_url"]
        read_only_fields = fields

    def _progress(self, closing):
        # One cache read per closing, shared by the fields below.
        if getattr(closing, "_progress", None) is None:
            closing._progress = progress(closing)
        return closing._progress

    def get_step(self, closing) -> str:
        return self._progress(closing).step

    def get_steps_done(self, closing) -> int:
        return self._progress(closing).steps_done

    def get_steps_total(self, closing) -> int:
        return self._progress(closing).steps_total

    def get_message(self, closing) -> str:
        return self._progress(closing).label

    def get_progress_url(self, closing) -> str:
        return f"/api/pools/{closing.pool_id}/closing/"
