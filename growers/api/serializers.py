from rest_framework import serializers

from core.serializers import FastRepresentationMixin, ModelSerializer, RefuseReadOnlyFieldsMixin

from ..models import Block, Farm, Grower, SprayClearance


class GrowerSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    class Meta:
        model = Grower
        fields = ["id", "code", "name", "contact_name", "email", "phone", "region", "ggn", "active",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class GrowerUpdateSerializer(GrowerSerializer):
    class Meta(GrowerSerializer.Meta):
        read_only_fields = [*GrowerSerializer.Meta.read_only_fields, "code"]  # statements and integrators key on it


class GrowerRefSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = Grower
        fields = ["id", "code", "name"]


class FarmSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    class Meta:
        model = Farm
        fields = ["id", "grower", "code", "name", "puc", "ggn", "region", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # growers.services checks the PUC (unique when set) as it writes, with its own message.
        validators = []


class FarmUpdateSerializer(FarmSerializer):
    class Meta(FarmSerializer.Meta):
        # Batches, certificates and export documents name the farm by code, under its grower.
        read_only_fields = [*FarmSerializer.Meta.read_only_fields, "grower", "code"]


class BlockSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    grower = serializers.IntegerField(source="farm.grower_id", read_only=True)

    class Meta:
        model = Block
        fields = ["id", "farm", "grower", "code", "fruit_type", "variety", "hectares", "planted_year", "active",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "grower", "created_at", "updated_at"]
        # growers.services checks the code (unique within the farm) as it writes, with its own message.
        validators = []


class BlockUpdateSerializer(BlockSerializer):
    class Meta(BlockSerializer.Meta):
        read_only_fields = [*BlockSerializer.Meta.read_only_fields, "farm", "code"]


class SprayClearanceSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    class Meta:
        model = SprayClearance
        fields = ["id", "block", "season", "cleared_on", "lab_reference", "valid_until", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []
