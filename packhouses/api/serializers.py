from rest_framework import serializers

from core.serializers import FastRepresentationMixin

from ..models import Packhouse


class PackhouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Packhouse
        fields = ["id", "code", "name", "region", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["code"].read_only = True  # part of every batch code made there
        return fields


class PackhouseRefSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = Packhouse
        fields = ["id", "code", "name"]
