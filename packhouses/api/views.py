from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from core.cache import cached

from .. import services
from ..filters import PackhouseFilterSet
from ..models import Packhouse
from .serializers import PackhouseSerializer, PackhouseUpdateSerializer


# The update's request has `code` read-only; the answer is the whole packhouse.
@extend_schema_view(
    update=extend_schema(request=PackhouseUpdateSerializer, responses=PackhouseSerializer),
    partial_update=extend_schema(request=PackhouseUpdateSerializer, responses=PackhouseSerializer),
)
class PackhouseViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Packing sites. Clerks and finance read; managers create and edit."""

    queryset = Packhouse.objects.all()
    serializer_class = PackhouseSerializer
    filterset_class = PackhouseFilterSet

    def get_serializer_class(self):
        return PackhouseUpdateSerializer if self.action in ("update", "partial_update") else self.serializer_class

    @cached("packhouses")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_packhouse(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_packhouse(serializer.instance, **serializer.validated_data)
