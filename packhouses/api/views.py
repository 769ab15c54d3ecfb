from rest_framework import mixins, viewsets

from core.cache import cached

from .. import services
from ..filters import PackhouseFilterSet
from ..models import Packhouse
from .serializers import PackhouseSerializer


class PackhouseViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Packing sites. Clerks and finance read; managers create and edit."""

    queryset = Packhouse.objects.all()
    serializer_class = PackhouseSerializer
    filterset_class = PackhouseFilterSet

    @cached("packhouses")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_packhouse(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_packhouse(serializer.instance, **serializer.validated_data)
