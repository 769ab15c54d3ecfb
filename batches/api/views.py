from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from core.api import idempotency_key, idempotency_key_parameter
from growers.models import Block, Grower
from packhouses.models import Packhouse
from seasons.models import Season

from .. import services
from ..filters import BatchFilterSet
from ..models import Batch, BatchBin
from .serializers import (
    BatchEditSerializer,
    BatchHistorySerializer,
    BatchIntakeSerializer,
    BatchListRowSerializer,
    BatchSerializer,
    PackoutSerializer,
    TransitionSerializer,
)

# Made once: a ModelSerializer builds its 30 fields from the model each time it is made, a fifth of a page's
# serialization. to_representation only reads them, so threads share it (as pallets' LINE_ANSWER).
LIST_ROW = BatchListRowSerializer()


# The bins as one array per row: no query per batch, and PostgreSQL works them out for the page's rows only.
BIN_CODES = ArraySubquery(BatchBin.objects.filter(batch=OuterRef("pk")).order_by("id").values("code"))


def _column(model, key, column):
    return Subquery(model.objects.filter(pk=OuterRef(key)).values(column))


def _valid(serializer_class, request, partial=False):
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class BatchViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Batches: one delivery each, followed from intake to dispatch.

    Clerks and managers record intake, move batches along and record pack-out;
    finance reads.
    """

    queryset = Batch.objects.select_related("grower", "packhouse", "block__farm", "season").annotate(
        bin_codes=BIN_CODES)
    # The list names each batch's grower, packhouse, block, farm and season by a subquery per column, not by
    # joins: PostgreSQL took 4 to 7 ms to plan the six-table join on every page, and plans these in under one
    # (docs/PERFORMANCE.md, issue #19). They run for the page's rows only; BatchListRowSerializer writes them.
    list_queryset = Batch.objects.annotate(
        bin_codes=BIN_CODES,
        list_grower_code=_column(Grower, "grower_id", "code"),
        list_grower_name=_column(Grower, "grower_id", "name"),
        list_packhouse_code=_column(Packhouse, "packhouse_id", "code"),
        list_packhouse_name=_column(Packhouse, "packhouse_id", "name"),
        list_block_code=_column(Block, "block_id", "code"),
        list_farm_code=_column(Block, "block_id", "farm__code"),
        list_season_code=_column(Season, "season_id", "code"),
    )
    serializer_class = BatchSerializer
    filterset_class = BatchFilterSet
    count_namespace = "batches"  # the total of a million rows, counted once per write (EnvelopePagination)
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "transition": ["batches.change_batch"],
        "packout": ["batches.change_batch"],
        "history": ["batches.view_batch"],
    }

    def get_queryset(self):
        return self.list_queryset.all() if self.action == "list" else super().get_queryset()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([LIST_ROW.to_representation(batch) for batch in page])

    @extend_schema(
        request=BatchIntakeSerializer, parameters=[idempotency_key_parameter("intake")], summary="Record an intake",
        responses={
            201: BatchSerializer,
            200: OpenApiResponse(BatchSerializer, description="A replayed Idempotency-Key: the first batch."),
        },
    )
    def create(self, request, *args, **kwargs):
        key = idempotency_key(request)
        intake = _valid(BatchIntakeSerializer, request)
        if key is None:
            batch, created = services.record_intake(**intake, by=request.user), True
        else:
            batch, created = services.record_intake_once(key, **intake, by=request.user)
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=BatchEditSerializer, summary="Change notes, or correct a batch (managers, with a reason)",
        responses={
            200: BatchSerializer,
            400: OpenApiResponse(description="Invalid values, or a correction without `reason` (named in the "
                                             "body), or one the batch's rules refuse."),
            403: OpenApiResponse(description="A correction by a role without batches.correct_batch (a clerk)."),
        },
    )
    def partial_update(self, request, *args, **kwargs):
        batch = self.get_object()
        changes = _valid(BatchEditSerializer, request, partial=True)
        version = changes.pop("version", None)
        reason = changes.pop("reason", "")
        confirm_unusual = changes.pop("confirm_unusual", False)
        if services.is_correction(changes) or reason.strip():
            if not request.user.has_perm("batches.correct_batch"):
                raise PermissionDenied(
                    "Only a manager may correct a batch's weights, bins, block or harvest date. "
                    "Send `notes` alone to add a note."
                )
            batch = services.correct_batch(batch, changes, reason=reason, by=request.user, expected_version=version,
                                           confirm_unusual=confirm_unusual)
        else:
            batch = services.edit(batch, changes, by=request.user, expected_version=version)
        return Response(BatchSerializer(batch).data)

    @extend_schema(request=TransitionSerializer, responses={200: BatchSerializer}, summary="Move to another status")
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        body = _valid(TransitionSerializer, request)
        batch = services.transition(
            self.get_object(), body["to_status"], by=request.user,
            reason=body.get("reason", ""), expected_version=body.get("version"),
        )
        return Response(BatchSerializer(batch).data)

    @extend_schema(request=PackoutSerializer, responses={200: BatchSerializer}, summary="Record the pack-out")
    @action(detail=True, methods=["post"])
    def packout(self, request, pk=None):
        body = _valid(PackoutSerializer, request)
        version = body.pop("version", None)
        batch = services.record_packout(self.get_object(), **body, by=request.user, expected_version=version)
        return Response(BatchSerializer(batch).data)

    @extend_schema(responses={200: BatchHistorySerializer(many=True)}, filters=False, summary="The batch's history")
    @action(detail=True, methods=["get"], filterset_class=None)
    def history(self, request, pk=None):
        rows = self.get_object().history.select_related("recorded_by")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(BatchHistorySerializer(page, many=True).data)
