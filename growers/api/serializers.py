from rest_framework import serializers

from core.serializers import FastRepresentationMixin, ModelSerializer, RefuseReadOnlyFieldsMixin

from ..models import Grower


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
