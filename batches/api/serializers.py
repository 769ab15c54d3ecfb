from rest_framework import serializers

from core.serializers import (
    BlankAsNullChoiceField,
    CharField,
    FastRepresentationMixin,
    RefuseReadOnlyFieldsMixin,
)
from growers.api.serializers import GrowerRefSerializer
from growers.models import FruitType, Grower
from packhouses.api.serializers import PackhouseRefSerializer
from packhouses.models import Packhouse

from ..models import Batch, BatchHistory, Status


def kg(**kwargs):
    return serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, **kwargs)


class BatchSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    grower = GrowerRefSerializer(read_only=True)
    packhouse = PackhouseRefSerializer(read_only=True)
    net_weight_kg = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    packout_percent = serializers.DecimalField(
        max_digits=5, decimal_places=1, read_only=True, allow_null=True,
        help_text="Class 1 to 3 kg as a percentage of net kg; null before pack-out.",
    )
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.choices), read_only=True,
        help_text="The statuses this batch may move to next.",
    )

    class Meta:
        model = Batch
        fields = [
            "id", "batch_code", "grower", "packhouse", "fruit_type", "variety", "harvest_date", "intake_date",
            "bin_count", "gross_weight_kg", "tare_weight_kg", "net_weight_kg",
            "class1_kg", "class2_kg", "class3_kg", "waste_kg", "packout_percent",
            "status", "rejection_reason", "allowed_transitions", "notes", "version", "created_at", "updated_at",
        ]
        read_only_fields = fields


class BatchIntakeSerializer(serializers.Serializer):
    """A delivery at the weighbridge."""

    grower = serializers.PrimaryKeyRelatedField(queryset=Grower.objects.all())
    packhouse = serializers.PrimaryKeyRelatedField(queryset=Packhouse.objects.all())
    fruit_type = serializers.ChoiceField(choices=FruitType.choices)
    variety = CharField(max_length=100)
    harvest_date = serializers.DateField()
    intake_date = serializers.DateTimeField(required=False, help_text="When it was weighed; defaults to now.")
    bin_count = serializers.IntegerField(min_value=1, max_value=100_000)
    gross_weight_kg = kg()
    tare_weight_kg = kg()
    notes = CharField(required=False, allow_blank=True, max_length=5000)


class BatchEditSerializer(RefuseReadOnlyFieldsMixin, serializers.Serializer):
    """Corrections. Send `version` to refuse the edit if someone changed the batch since you read it."""

    fruit_type = serializers.ChoiceField(choices=FruitType.choices, required=False)
    variety = CharField(max_length=100, required=False)
    harvest_date = serializers.DateField(required=False)
    bin_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    gross_weight_kg = kg(required=False)
    tare_weight_kg = kg(required=False)
    notes = CharField(required=False, allow_blank=True, max_length=5000)
    version = serializers.IntegerField(required=False, min_value=1)

    # The rest of a batch changes only through intake, transition and pack-out.
    also_read_only = [name for name in BatchSerializer.Meta.fields if name not in (
        "fruit_type", "variety", "harvest_date", "bin_count", "gross_weight_kg", "tare_weight_kg", "notes", "version",
    )]


class TransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    reason = CharField(required=False, allow_blank=True, max_length=2000,
                                   help_text="Required when rejecting.")
    version = serializers.IntegerField(required=False, min_value=1)


class PackoutSerializer(serializers.Serializer):
    class1_kg = kg()
    class2_kg = kg()
    class3_kg = kg()
    waste_kg = kg()
    version = serializers.IntegerField(required=False, min_value=1)


class BatchHistorySerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    from_status = BlankAsNullChoiceField(choices=Status.choices, help_text="null when the event changed no status.")
    to_status = BlankAsNullChoiceField(choices=Status.choices, help_text="null when the event changed no status.")

    class Meta:
        model = BatchHistory
        fields = ["id", "event", "from_status", "to_status", "payload", "recorded_at", "recorded_by"]
        read_only_fields = fields
