from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from core.cache import cached

from .. import services
from ..filters import SeasonFilterSet
from ..models import Season
from .serializers import SeasonSerializer, SeasonUpdateSerializer


@extend_schema_view(
    partial_update=extend_schema(request=SeasonUpdateSerializer, responses=SeasonSerializer),
)
class SeasonViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Packing seasons. Every role that reads batches reads them; managers add them and change their names and
    dates. Seasons never overlap, and a season that holds batches can only grow."""

    queryset = Season.objects.all()
    serializer_class = SeasonSerializer
    filterset_class = SeasonFilterSet
    # PATCH only: a PUT would have to resend the code, which never changes.
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return SeasonUpdateSerializer if self.action in ("update", "partial_update") else self.serializer_class

    @cached("seasons")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_season(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_season(serializer.instance, **serializer.validated_data)
