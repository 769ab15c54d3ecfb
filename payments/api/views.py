from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from fruitpak.cache import cached

from .. import services
from ..filters import GrowerPaymentFilterSet, PriceAgreementFilterSet
from ..models import GrowerPayment, PriceAgreement
from .serializers import GrowerPaymentSerializer, PaymentCreateSerializer, PriceAgreementSerializer

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Any unique string up to 128 characters. Sending the same key again returns the first payment "
                "(200) and creates nothing; the same key with a different payment is a 409.",
)


class GrowerPaymentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Payments to growers. Created and read only: a mistake is corrected by an adjustment."""

    queryset = GrowerPayment.objects.select_related("grower", "created_by")
    serializer_class = GrowerPaymentSerializer
    filterset_class = GrowerPaymentFilterSet

    @extend_schema(
        request=PaymentCreateSerializer, parameters=[IDEMPOTENCY_KEY], summary="Record a payment",
        responses={
            201: GrowerPaymentSerializer,
            200: OpenApiResponse(GrowerPaymentSerializer, description="A replayed Idempotency-Key: the first payment."),
        },
    )
    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key and len(key) > 128:
            raise ValidationError({"Idempotency-Key": ["Use at most 128 characters."]})
        body = PaymentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payment, created = services.record_payment(**body.validated_data, by=request.user, idempotency_key=key)
        return Response(
            GrowerPaymentSerializer(payment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PriceAgreementViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Price agreements: price per kg by fruit, variety (blank = any) and grade, over a period."""

    queryset = PriceAgreement.objects.all()
    serializer_class = PriceAgreementSerializer
    filterset_class = PriceAgreementFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    @cached("prices")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_price_agreement(**serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.update_price_agreement(serializer.instance, **serializer.validated_data)
