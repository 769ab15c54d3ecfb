from rest_framework import serializers

from core.serializers import FastRepresentationMixin, ModelSerializer, RefuseReadOnlyFieldsMixin

from ..models import Packhouse


class PackhouseSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    class Meta:
        model = Packhouse
        fields = ["id", "code", "name", "region", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]



class PackhouseUpdateSerializer(PackhouseSerializer):
    class Meta(PackhouseSerializer.Meta):
        read_only_fields = [*PackhouseSerializer.Meta.read_only_fields, "code"]  # part of every batch code made there


class PackhouseRefSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = Packhouse
        fields = ["id", "code", "name"]
