from rest_framework import serializers

from batches.models import Batch
from core.serializers import ModelSerializer, RefuseReadOnlyFieldsMixin
from packhouses.api.serializers import PackhouseRefSerializer
from packhouses.models import Packhouse

from ..models import Grade, Pallet, PalletHistory, PalletLine, Room


class RoomRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Room
        fields = ["id", "code", "name"]


class PalletLineSerializer(serializers.ModelSerializer):
    batch_code = serializers.CharField(source="batch.batch_code", read_only=True)

    class Meta:
        model = PalletLine
        fields = ["id", "batch", "batch_code", "grade", "cartons", "kg", "added_at"]
        read_only_fields = fields


class PalletSerializer(serializers.ModelSerializer):
    packhouse = PackhouseRefSerializer(read_only=True)
    room = RoomRefSerializer(read_only=True, allow_null=True)
    cartons = serializers.IntegerField(read_only=True, help_text="Cartons on the pallet.")
    kg = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, help_text="kg on the pallet.")

    class Meta:
        model = Pallet
        fields = ["id", "sscc", "packhouse", "built_at", "status", "room", "cartons", "kg", "version", "updated_at"]
        read_only_fields = fields


class PalletDetailSerializer(PalletSerializer):
    lines = PalletLineSerializer(many=True, read_only=True)

    class Meta(PalletSerializer.Meta):
        fields = [*PalletSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class BuildSerializer(serializers.Serializer):
    packhouse = serializers.PrimaryKeyRelatedField(queryset=Packhouse.objects.all())


class LineSerializer(serializers.Serializer):
    # The service locks and reads the batch again; the answer needs its code.
    batch = serializers.PrimaryKeyRelatedField(queryset=Batch.objects.only("id", "batch_code"))
    grade = serializers.ChoiceField(choices=Grade.choices)
    cartons = serializers.IntegerField(min_value=1, max_value=100_000)
    kg = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The pallet's version you read; refused with 409 if it changed.")


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The pallet's version you read; refused with 409 if it changed.")


class MoveSerializer(VersionSerializer):
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all())


class MovedSerializer(PalletSerializer):
    warning = serializers.CharField(read_only=True, allow_null=True,
                                    help_text="Set when the room now holds more pallets than its capacity.")

    class Meta(PalletSerializer.Meta):
        fields = [*PalletSerializer.Meta.fields, "warning"]
        read_only_fields = fields


class PalletHistorySerializer(serializers.ModelSerializer):
    recorded_by = serializers.EmailField(source="recorded_by.email", read_only=True, allow_null=True)

    class Meta:
        model = PalletHistory
        fields = ["id", "event", "payload", "recorded_at", "recorded_by"]
        read_only_fields = fields


class RoomSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    packhouse = serializers.PrimaryKeyRelatedField(queryset=Packhouse.objects.all())
    stock = serializers.IntegerField(read_only=True, help_text="Pallets in the room now.")

    class Meta:
        model = Room
        fields = ["id", "packhouse", "code", "name", "capacity", "active", "stock", "created_at", "updated_at"]
        read_only_fields = ["id", "stock", "created_at", "updated_at"]


class RoomUpdateSerializer(RoomSerializer):
    class Meta(RoomSerializer.Meta):
        read_only_fields = [*RoomSerializer.Meta.read_only_fields, "packhouse", "code"]
