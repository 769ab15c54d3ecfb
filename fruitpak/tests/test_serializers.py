"""FastRepresentationMixin gives byte for byte what DRF's own to_representation gives."""

from decimal import Decimal

import pytest
from rest_framework import serializers

from batches import services as batch_services
from batches.api.serializers import BatchSerializer
from batches.tests.factories import BatchFactory
from growers.api.serializers import GrowerRefSerializer
from packhouses.api.serializers import PackhouseRefSerializer

pytestmark = pytest.mark.django_db


def drf(serializer_class, instance):
    """DRF's own output: its Serializer.to_representation, also for the nested references."""
    serializer = serializer_class()
    data = serializers.Serializer.to_representation(serializer, instance)
    for name, ref in (("grower", GrowerRefSerializer), ("packhouse", PackhouseRefSerializer)):
        if name in data:
            data[name] = serializers.Serializer.to_representation(ref(), getattr(instance, name))
    return data


def test_batches_in_every_shape_come_out_as_drf_makes_them(acme):
    with acme:
        fresh = BatchFactory(notes="")
        graded = batch_services.transition(BatchFactory(), "grading")
        packed = batch_services.record_packout(
            graded, class1_kg=Decimal("1000.10"), class2_kg=Decimal("0"), class3_kg=Decimal("20.05"),
            waste_kg=Decimal("2479.85"),
        )
        rejected = batch_services.transition(BatchFactory(), "rejected", reason="Hail <damage> & bruising")
        batches = [fresh, packed, rejected]

        fast = BatchSerializer(batches, many=True).data

        assert [dict(row) for row in fast] == [drf(BatchSerializer, batch) for batch in batches]
    assert fast[1]["packout_percent"] is not None and fast[0]["class1_kg"] is None
    assert fast[2]["allowed_transitions"] == [] and fast[0]["allowed_transitions"] == ["grading", "rejected"]
