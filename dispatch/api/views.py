from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.cache import cached
from core.csv import stream_csv
from pallets.models import Pallet

from .. import services
from .. import trace as tracing
from ..filters import LoadFilterSet
from ..models import Load
from .serializers import (
    DispatchedSerializer,
    LoadDetailSerializer,
    LoadSerializer,
    LoadUpdateSerializer,
    ScanSerializer,
    TraceSerializer,
    trace_data,
)


def with_totals(queryset):
    # GROUP BY drops Meta.ordering: say it again, pages must not overlap.
    return (queryset.annotate(pallet_count=Count("load_pallets", distinct=True),
                              kg=Sum("load_pallets__pallet__lines__kg", default=0))
            .order_by("-created_at", "-id"))


def load_pallets(load):
    return list(Pallet.objects.filter(load_pallet__load=load)
                .annotate(cartons=Sum("lines__cartons", default=0), kg=Sum("lines__kg", default=0))
                .order_by("sscc"))


class LoadViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Loads: a truck or container leaving a packhouse with pallets. Clerks and managers create them, scan
    pallets on and off and dispatch them; finance reads."""

    queryset = with_totals(Load.objects.select_related("packhouse", "dispatched_by"))
    serializer_class = LoadSerializer
    filterset_class = LoadFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "pallets": ["dispatch.change_load"],
        "remove_pallet": ["dispatch.change_load"],
        "dispatch_load": ["dispatch.change_load"],
    }

    def get_serializer_class(self):
        if self.action == "list":
            return LoadSerializer
        if self.action == "partial_update":
            return LoadUpdateSerializer
        return LoadDetailSerializer

    def _answer(self, load, serializer_class=LoadDetailSerializer, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=load.pk)
        fresh.pallets = load_pallets(fresh)
        fresh.batches_dispatched = [batch.batch_code for batch in getattr(load, "batches_dispatched", [])]
        return Response(serializer_class(fresh).data, status=code)

    @cached("loads", "pallets")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    @extend_schema(request=LoadSerializer, responses={201: LoadDetailSerializer}, summary="Create a load")
    def create(self, request, *args, **kwargs):
        serializer = LoadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        load = services.create_load(packhouse=data.pop("packhouse"), by=request.user, **data)
        return self._answer(load, code=status.HTTP_201_CREATED)

    @extend_schema(request=LoadUpdateSerializer, responses={200: LoadDetailSerializer},
                   summary="Change a load not yet dispatched")
    def partial_update(self, request, *args, **kwargs):
        load = self.get_object()
        serializer = LoadUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        return self._answer(services.update_load(load, expected_version=version, **data))

    @extend_schema(request=ScanSerializer, responses={201: LoadDetailSerializer},
                   summary="Put a pallet on the load by its SSCC")
    @action(detail=True, methods=["post"])
    def pallets(self, request, pk=None):
        load = self.get_object()  # another company's id is a 404 before the body is read
        body = ScanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.add_pallet(load, body.validated_data["sscc"], by=request.user)
        return self._answer(load, code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: LoadDetailSerializer}, summary="Take a pallet off the load",
                   parameters=[OpenApiParameter("pallet_id", int, OpenApiParameter.PATH,
                                                description="The pallet's id.")])
    @action(detail=True, methods=["delete"], url_path=r"pallets/(?P<pallet_id>[0-9]+)", filterset_class=None)
    def remove_pallet(self, request, pk=None, pallet_id=None):
        load = self.get_object()
        pallet = get_object_or_404(Pallet, pk=pallet_id)
        services.remove_pallet(load, pallet, by=request.user)
        return self._answer(load)

    @extend_schema(request=None, responses={200: DispatchedSerializer}, summary="Dispatch the load")
    @action(detail=True, methods=["post"], url_path="dispatch", filterset_class=None)
    def dispatch_load(self, request, pk=None):
        load = self.get_object()
        return self._answer(services.dispatch_load(load, by=request.user), DispatchedSerializer)


class CanTrace(BasePermission):
    """Whoever may read loads may trace (all three roles); anonymous requests get 401."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("dispatch.view_load"))


Q_PARAMETER = OpenApiParameter("q", OpenApiTypes.STR, required=True,
                               description="A batch code, bin code, SSCC, load number, FARM/BLOCK code or grower "
                                           "code.")


def _identifier(request):
    """The `q` to trace; leaving it out is a mistake worth saying, an empty one finds nothing."""
    if "q" not in request.query_params:
        raise exceptions.ValidationError({"q": [
            "Give `q`: a batch code, bin code, SSCC, load number, FARM/BLOCK code or grower code."
        ]})
    return request.query_params["q"]


class TraceView(APIView):
    """The recall trace: everything connected to one identifier, upstream and downstream, with each batch's
    mass balance."""

    permission_classes = [CanTrace]

    @extend_schema(parameters=[Q_PARAMETER], responses={200: TraceSerializer}, summary="Trace an identifier")
    def get(self, request):
        return Response(trace_data(tracing.trace(_identifier(request))))


class TraceCsvView(APIView):
    permission_classes = [CanTrace]

    @extend_schema(parameters=[Q_PARAMETER], summary="Trace an identifier, as CSV",
                   responses={(200, "text/csv"): OpenApiResponse(
                       OpenApiTypes.STR, description="One row per batch × pallet line × load.")})
    def get(self, request):
        result = tracing.trace(_identifier(request))
        return stream_csv("trace.csv", tracing.CSV_HEADER, tracing.csv_rows(result))
