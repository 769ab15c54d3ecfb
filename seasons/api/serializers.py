from rest_framework import serializers

from core.serializers import ModelSerializer, RefuseReadOnlyFieldsMixin

from ..models import Season


class SeasonSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    class Meta:
        model = Season
        fields = ["id", "code", "name", "start_date", "end_date", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The service checks the code and the dates when it writes: a 400 naming the clash, not a 500.
        validators = []
        extra_kwargs = {"code": {"validators": []}}


class SeasonUpdateSerializer(SeasonSerializer):
    class Meta(SeasonSerializer.Meta):
        read_only_fields = [*SeasonSerializer.Meta.read_only_fields, "code"]  # filters and reports name it


class SeasonRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Season
        fields = ["id", "code", "name"]
