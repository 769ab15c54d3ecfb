from django.db.models import Prefetch, Sum
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import idempotency_key, idempotency_key_parameter
from core.cache import cached

from .. import services
from ..filters import PalletFilterSet, RoomFilterSet
from ..models import Pallet, PalletLine, Room
from .serializers import (
    BuildSerializer,
    LineSerializer,
    MovedSerializer,
    MoveSerializer,
    PalletDetailSerializer,
    PalletHistorySerializer,
    PalletLineSerializer,
    PalletSerializer,
    RoomSerializer,
    RoomUpdateSerializer,
    VersionSerializer,
)

# Made once: a ModelSerializer builds its fields from the model on every instance, a millisecond of each line
# added (docs/PERFORMANCE.md). to_representation only reads them, so threads share it.
LINE_ANSWER = PalletLineSerializer()


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def with_totals(queryset):
    # GROUP BY drops Meta.ordering: say it again, pages must not overlap.
    return (queryset.annotate(cartons=Sum("lines__cartons", default=0), kg=Sum("lines__kg", default=0))
            .order_by("-built_at", "-id"))


class PalletViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pallets, known by their SSCC. Clerks and managers build, fill, close and move them; managers reopen
    them; finance reads."""

    queryset = with_totals(Pallet.objects.select_related("packhouse", "room"))
    serializer_class = PalletSerializer
    filterset_class = PalletFilterSet
    action_permissions = {
        "lines": ["pallets.change_pallet"],
        "remove_line": ["pallets.change_pallet"],
        "close": ["pallets.change_pallet"],
        "reopen": ["pallets.reopen_pallet"],
        "move": ["pallets.change_pallet"],
        "history": ["pallets.view_pallet"],
    }

    def get_queryset(self):
        if self.action == "lines":
            # Adding a line reads the pallet only to find it (404 for an id that is not this company's); the
            # service locks and reads it again. Its totals summed every line of the pallet on every add.
            return Pallet.objects.all()
        queryset = super().get_queryset()
        # Adding a line answers with the line, and the history with its rows: fetching every line of the
        # pallet (and its batch) for them cost more the fuller the pallet (docs/PERFORMANCE.md).
        if self.action not in ("list", "lines", "history"):
            queryset = queryset.prefetch_related(
                Prefetch("lines", queryset=PalletLine.objects.select_related("batch")))
        return queryset

    def get_serializer_class(self):
        return PalletSerializer if self.action == "list" else PalletDetailSerializer

    def _answer(self, pallet, serializer_class=PalletDetailSerializer, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=pallet.pk)
        fresh.warning = getattr(pallet, "warning", None)
        return Response(serializer_class(fresh).data, status=code)

    @cached("pallets")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=BuildSerializer, parameters=[idempotency_key_parameter("pallet")],
        summary="Build a pallet (issues its SSCC)",
        responses={
            201: PalletDetailSerializer,
            200: OpenApiResponse(PalletDetailSerializer, description="A replayed Idempotency-Key: the first pallet."),
        },
    )
    def create(self, request, *args, **kwargs):
        key = idempotency_key(request)
        body = _valid(BuildSerializer, request)
        if key is None:
            pallet, created = services.build_pallet(body["packhouse"], by=request.user), True
        else:
            pallet, created = services.build_pallet_once(key, body["packhouse"], by=request.user)
        return self._answer(pallet, code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=LineSerializer, parameters=[idempotency_key_parameter("line")], summary="Add a line",
        responses={
            201: PalletLineSerializer,
            200: OpenApiResponse(PalletLineSerializer, description="A replayed Idempotency-Key: the first line."),
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def lines(self, request, pk=None):
        pallet = self.get_object()  # another company's id is a 404 before the body is read
        key = idempotency_key(request)
        body = _valid(LineSerializer, request)
        version = body.pop("version", None)
        if key is None:
            line, created = services.add_line(pallet, **body, by=request.user, expected_version=version), True
        else:
            line, created = services.add_line_once(key, pallet, **body, by=request.user, expected_version=version)
        return Response(LINE_ANSWER.to_representation(line),
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: PalletDetailSerializer}, summary="Remove a line",
                   parameters=[OpenApiParameter("line_pk", int, OpenApiParameter.PATH, description="The line's id."),
                               OpenApiParameter("version", int, description="The pallet's version you read.")])
    @action(detail=True, methods=["delete"], url_path=r"lines/(?P<line_pk>[0-9]+)", filterset_class=None)
    def remove_line(self, request, pk=None, line_pk=None):
        pallet = self.get_object()
        line = get_object_or_404(PalletLine, pk=line_pk, pallet=pallet)
        version = VersionSerializer(data=request.query_params)
        version.is_valid(raise_exception=True)
        pallet = services.remove_line(line, by=request.user, expected_version=version.validated_data.get("version"))
        return self._answer(pallet)

    @extend_schema(request=VersionSerializer, responses={200: PalletDetailSerializer}, summary="Close the pallet")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        pallet = self.get_object()
        body = _valid(VersionSerializer, request)
        return self._answer(services.close(pallet, by=request.user, expected_version=body.get("version")))

    @extend_schema(request=VersionSerializer, responses={200: PalletDetailSerializer},
                   summary="Reopen a closed or stored pallet (managers)")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        pallet = self.get_object()
        body = _valid(VersionSerializer, request)
        return self._answer(services.reopen(pallet, by=request.user, expected_version=body.get("version")))

    @extend_schema(request=MoveSerializer, responses={200: MovedSerializer}, summary="Move to a cold-store room")
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        pallet = self.get_object()
        body = _valid(MoveSerializer, request)
        pallet = services.move_to_room(pallet, body["room"], by=request.user,
                                       expected_version=body.get("version"))
        return self._answer(pallet, MovedSerializer)

    @extend_schema(responses={200: PalletHistorySerializer(many=True)}, filters=False, summary="The pallet's history")
    @action(detail=True, methods=["get"], filterset_class=None)
    def history(self, request, pk=None):
        rows = self.get_object().history.select_related("recorded_by")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(PalletHistorySerializer(page, many=True).data)


@extend_schema_view(
    update=extend_schema(request=RoomUpdateSerializer, responses=RoomSerializer),
    partial_update=extend_schema(request=RoomUpdateSerializer, responses=RoomSerializer),
)
class RoomViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Cold-store rooms of the packhouses, with their stock of pallets. Managers add and change them."""

    queryset = services.rooms_with_stock(Room.objects.all())
    serializer_class = RoomSerializer
    filterset_class = RoomFilterSet

    def get_serializer_class(self):
        return RoomUpdateSerializer if self.action in ("update", "partial_update") else self.serializer_class

    @cached("rooms", "pallets")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        room = services.create_room(**serializer.validated_data)
        serializer.instance = services.rooms_with_stock(Room.objects.all()).get(pk=room.pk)

    def perform_update(self, serializer):
        room = services.update_room(serializer.instance, **serializer.validated_data)
        serializer.instance = services.rooms_with_stock(Room.objects.all()).get(pk=room.pk)
