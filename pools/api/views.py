from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from ..filters import ChargeRuleFilterSet, PoolFilterSet, PoolIncomeFilterSet
from ..models import ChargeRule, Pool, PoolIncome
from ..settlement import settle
from .serializers import (
    ChargeRuleSerializer,
    GrowerSettlementSerializer,
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
    action_permissions = {"close": ["pools.change_pool"], "settlement": ["pools.view_pool"]}

    @extend_schema(request=PoolCreateSerializer, responses={201: PoolSerializer}, summary="Create a pool")
    def create(self, request, *args, **kwargs):
        body = PoolCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pool = services.create_pool(**body.validated_data, by=request.user)
        return Response(PoolSerializer(pool).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, summary="Close a pool", responses={
        200: PoolSerializer,
        400: OpenApiResponse(description="A batch of the pool already belongs to a closed pool."),
        409: OpenApiResponse(description="The pool is already closed (code `already_closed`)."),
    })
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Fix the pool's batches and figures."""
        pool = services.close_pool(self.get_object(), by=request.user)
        return Response(PoolSerializer(pool).data)

    @extend_schema(responses=GrowerSettlementSerializer(many=True), summary="Each grower's settlement",
                   filters=False)
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def settlement(self, request, pk=None):
        """Per grower: kg by grade × rate, gross, each charge with its basis and quantity, already paid, final.

        Indicative while the pool is open.
        """
        return Response(GrowerSettlementSerializer(settle(self.get_object()), many=True).data)


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
