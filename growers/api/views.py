from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from core.cache import cached

from .. import services
from ..filters import GrowerFilterSet
from ..models import Grower
from .serializers import GrowerSerializer, GrowerUpdateSerializer


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
