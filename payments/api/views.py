from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import idempotency_key, idempotency_key_parameter
from core.cache import cached

from .. import services
from ..filters import GrowerPaymentFilterSet, PriceAgreementFilterSet
from ..models import GrowerPayment, PriceAgreement
from .serializers import (
    GrowerPaymentSerializer,
    PaymentCreateSerializer,
    PriceAgreementSerializer,
    PriceAgreementUpdateSerializer,
    ReverseSerializer,
)


class GrowerPaymentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Payments to growers. Created and read only: a mistake is corrected by an adjustment."""

    # reversed_by: the reverse one-to-one, joined so a page of payments costs no query per row.
    queryset = GrowerPayment.objects.select_related("grower", "created_by", "reversed_by")
    serializer_class = GrowerPaymentSerializer
    filterset_class = GrowerPaymentFilterSet
    # Reversing records a payment: whoever may record one (finance, managers) may reverse one.
    action_permissions = {"reverse": ["payments.add_growerpayment"]}

    @extend_schema(
        request=PaymentCreateSerializer, parameters=[idempotency_key_parameter("payment")], summary="Record a payment",
        responses={
            201: GrowerPaymentSerializer,
            200: OpenApiResponse(GrowerPaymentSerializer, description="A replayed Idempotency-Key: the first payment."),
        },
    )
    def create(self, request, *args, **kwargs):
        key = idempotency_key(request)
        body = PaymentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if key is None:
            payment, created = services.record_payment(**body.validated_data, by=request.user), True
        else:
            payment, created = services.record_payment_once(key, **body.validated_data, by=request.user)
        return Response(
            GrowerPaymentSerializer(payment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


    @extend_schema(
        request=ReverseSerializer, summary="Reverse a payment",
        responses={
            201: OpenApiResponse(GrowerPaymentSerializer, description=(
                "The reversal: an adjustment of the opposite amount to the same grower, linked by `reverses`.")),
            400: OpenApiResponse(description="No `reason`, or the payment is itself a reversal."),
            409: OpenApiResponse(description="The payment was already reversed (code `already_reversed`)."),
        },
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """A payment is never edited: reversing records the opposite adjustment, linked to it, once."""
        payment = self.get_object()
        body = ReverseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reversal = services.reverse_payment(payment, reason=body.validated_data["reason"], by=request.user)
        return Response(GrowerPaymentSerializer(reversal).data, status=status.HTTP_201_CREATED)


# The update's request has what the agreement prices read-only; the answer is the whole agreement.
@extend_schema_view(partial_update=extend_schema(request=PriceAgreementUpdateSerializer,
                                                 responses=PriceAgreementSerializer))
class PriceAgreementViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Price agreements: price per kg by fruit, variety (blank = any) and grade, over a period."""

    queryset = PriceAgreement.objects.all()
    serializer_class = PriceAgreementSerializer
    filterset_class = PriceAgreementFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        return PriceAgreementUpdateSerializer if self.action == "partial_update" else self.serializer_class

    @cached("prices")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_price_agreement(**serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.update_price_agreement(serializer.instance, **serializer.validated_data)
