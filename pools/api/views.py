from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from .. import services
from ..filters import ChargeRuleFilterSet, PoolFilterSet, PoolIncomeFilterSet
from ..models import ChargeRule, Pool, PoolIncome
from ..summary import pool_summary
from .serializers import (
    ChargeRuleSerializer,
    GrowerSettlementSerializer,
    PoolClosingSerializer,
    PoolCreateSerializer,
    PoolIncomeCreateSerializer,
    PoolIncomeSerializer,
    PoolSerializer,
)


class PoolViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pools: a season's fruit and variety (blank = every variety) whose market returns growers share."""

    queryset = Pool.objects.select_related("season")
    serializer_class = PoolSerializer
    filterset_class = PoolFilterSet
    action_permissions = {"close": ["pools.change_pool"], "closing": ["pools.view_pool"],
                          "settlement": ["pools.view_pool"]}

    @extend_schema(request=PoolCreateSerializer, responses={201: PoolSerializer}, summary="Create a pool")
    def create(self, request, *args, **kwargs):
        body = PoolCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pool = services.create_pool(**body.validated_data, by=request.user)
        return Response(PoolSerializer(pool).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, summary="Close a pool (queued)", responses={
        202: OpenApiResponse(PoolClosingSerializer, description="Queued: poll `progress_url` until `status` is "
                                                                "done (the pool is closed) or failed (it is not)."),
        409: OpenApiResponse(description="The pool is already closed (code `already_closed`), or a close of it "
                                         "waits or runs (code `already_closing`)."),
    })
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Fix the pool's batches and figures, in the job worker: a big pool takes seconds."""
        closing = services.queue_close(self.get_object(), by=request.user)
        return Response(PoolClosingSerializer(closing).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="The pool's latest close and its progress", filters=False, responses={
        200: PoolClosingSerializer, 404: OpenApiResponse(description="No close of this pool was ever queued."),
    })
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def closing(self, request, pk=None):
        closing = self.get_object().closings.first()
        if closing is None:
            raise NotFound("No close of this pool was ever queued.")
        return Response(PoolClosingSerializer(closing).data)

    @extend_schema(responses=GrowerSettlementSerializer(many=True), summary="Each grower's settlement",
                   filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def settlement(self, request, pk=None):
        """Per grower: kg by grade × rate, gross, each charge with its basis and quantity, already paid, final.

        Indicative while the pool is open.
        """
        return Response(GrowerSettlementSerializer(pool_summary(self.get_object()).growers, many=True).data)


class PoolIncomeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pool income: append-only; a mistake is a negative entry with a reason."""

    queryset = PoolIncome.objects.all()
    serializer_class = PoolIncomeSerializer
    filterset_class = PoolIncomeFilterSet

    @extend_schema(request=PoolIncomeCreateSerializer, responses={201: PoolIncomeSerializer},
                   summary="Record pool income")
    def create(self, request, *args, **kwargs):
        body = PoolIncomeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        entry = services.record_income(data.pop("pool"), **data, by=request.user)
        return Response(PoolIncomeSerializer(entry).data, status=status.HTTP_201_CREATED)


class ChargeRuleViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """A pool's charges; removed only while the pool is open."""

    queryset = ChargeRule.objects.all()
    serializer_class = ChargeRuleSerializer
    filterset_class = ChargeRuleFilterSet

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.add_charge_rule(data.pop("pool"), **data, by=self.request.user)

    @extend_schema(summary="Remove a charge of an open pool", responses={
        200: OpenApiResponse(ChargeRuleSerializer, description="The charge as it was before it was removed."),
        400: OpenApiResponse(description="The pool is closed: its charges are fixed."),
    })
    def destroy(self, request, *args, **kwargs):
        rule = self.get_object()
        body = ChargeRuleSerializer(rule).data
        services.remove_charge_rule(rule, by=request.user)
        return Response(body)
