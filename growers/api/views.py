from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from core.cache import cached

from .. import services
from ..filters import BlockFilterSet, FarmFilterSet, GrowerFilterSet, SprayClearanceFilterSet
from ..models import Block, Farm, Grower, SprayClearance
from .serializers import (
    BlockSerializer,
    BlockUpdateSerializer,
    FarmSerializer,
    FarmUpdateSerializer,
    GrowerSerializer,
    GrowerUpdateSerializer,
    SprayClearanceSerializer,
)


# The update's request has `code` read-only; the answer is the whole grower.
@extend_schema_view(
    update=extend_schema(request=GrowerUpdateSerializer, responses=GrowerSerializer),
    partial_update=extend_schema(request=GrowerUpdateSerializer, responses=GrowerSerializer),
)
class GrowerViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Growers. Clerks and finance read; managers create and edit."""

    queryset = Grower.objects.all()
    serializer_class = GrowerSerializer
    filterset_class = GrowerFilterSet

    def get_serializer_class(self):
        return GrowerUpdateSerializer if self.action in ("update", "partial_update") else self.serializer_class

    @cached("growers")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_grower(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_grower(serializer.instance, **serializer.validated_data)


WRITE_BY_PATCH = ["get", "post", "patch", "head", "options"]


# The update's request has the code and the parent read-only; the answer is the whole object.
@extend_schema_view(partial_update=extend_schema(request=FarmUpdateSerializer, responses=FarmSerializer))
class FarmViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A grower's farms. Clerks and finance read; managers create and edit (PATCH)."""

    queryset = Farm.objects.all()
    serializer_class = FarmSerializer
    filterset_class = FarmFilterSet
    http_method_names = WRITE_BY_PATCH

    def get_serializer_class(self):
        return FarmUpdateSerializer if self.action == "partial_update" else self.serializer_class

    @cached("growers")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_farm(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_farm(serializer.instance, **serializer.validated_data)


@extend_schema_view(partial_update=extend_schema(request=BlockUpdateSerializer, responses=BlockSerializer))
class BlockViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Orchard blocks: where each batch's fruit grew. Clerks and finance read; managers create and edit (PATCH)."""

    queryset = Block.objects.select_related("farm")
    serializer_class = BlockSerializer
    filterset_class = BlockFilterSet
    http_method_names = WRITE_BY_PATCH

    def get_serializer_class(self):
        return BlockUpdateSerializer if self.action == "partial_update" else self.serializer_class

    @cached("growers")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_block(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_block(serializer.instance, **serializer.validated_data)


class SprayClearanceViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Spray (MRL) clearances per block and season. Everyone reads; managers record. A clearance is a record:
    never changed, and a new one is added when a block is tested again."""

    queryset = SprayClearance.objects.all()
    serializer_class = SprayClearanceSerializer
    filterset_class = SprayClearanceFilterSet

    @cached("growers")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.record_clearance(**serializer.validated_data)
