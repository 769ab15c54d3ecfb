from rest_framework import serializers

from core.serializers import FastRepresentationMixin

from ..models import Grower


class GrowerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grower
        fields = ["id", "code", "name", "contact_name", "email", "phone", "region", "ggn", "active",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["code"].read_only = True  # statements and integrators key on it
        return fields


class GrowerRefSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = Grower
        fields = ["id", "code", "name"]
