from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import idempotency_key, idempotency_key_parameter
from core.cache import cached
from core.csv import stream_csv

from .. import remittance, services
from ..filters import GrowerPaymentFilterSet, PaymentRunFilterSet, PriceAgreementFilterSet, RemittanceAdviceFilterSet
from ..models import GrowerPayment, PaymentRun, PaymentRunLine, PriceAgreement, RemittanceAdvice
from .serializers import (
    CancelRunSerializer,
    DecideSerializer,
    GrowerPaymentSerializer,
    PaymentCreateSerializer,
    PaymentRunDetailSerializer,
    PaymentRunSerializer,
    PrepareRunSerializer,
    PriceAgreementSerializer,
    PriceAgreementUpdateSerializer,
    RemittanceAdviceSerializer,
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


RUN_REFUSALS = {
    400: OpenApiResponse(description="Something blocks it (the message says what, e.g. the run's validation)."),
    403: OpenApiResponse(description="Not Finance or a Manager, or approving a run one prepared oneself."),
    409: OpenApiResponse(description="The run's status does not allow it, or the pool's figures changed."),
}


class PaymentRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Payment runs of closed pools: prepared, approved by a second user, posted once (docs/SETTLEMENT.md)."""

    queryset = PaymentRun.objects.select_related("pool", "prepared_by", "approved_by", "posted_by", "cancelled_by")
    serializer_class = PaymentRunSerializer
    filterset_class = PaymentRunFilterSet
    action_permissions = {name: ["payments.change_paymentrun"] for name in ("prepare", "approve", "post", "cancel",
                                                                             "decide")}

    def get_serializer_class(self):
        return PaymentRunSerializer if self.action == "list" else PaymentRunDetailSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.prefetch_related(Prefetch("lines", PaymentRunLine.objects.select_related("grower")
                                                          .order_by("grower__code")))
        return queryset

    def _answer(self, run, code=status.HTTP_200_OK):
        return Response(PaymentRunDetailSerializer(self.get_queryset().get(pk=run.pk)).data, status=code)

    @extend_schema(request=PrepareRunSerializer, summary="Prepare a pool's payment run",
                   responses={201: PaymentRunDetailSerializer, **RUN_REFUSALS})
    def create(self, request, *args, **kwargs):
        """A draft run of a closed pool; if the pool has a draft already, its lines are computed again."""
        body = PrepareRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.prepare_run(body.validated_data["pool"], by=request.user)
        return self._answer(run, status.HTTP_201_CREATED)

    @extend_schema(request=None, summary="Prepare the run again",
                   responses={200: PaymentRunDetailSerializer, **RUN_REFUSALS})
    @action(detail=True, methods=["post"])
    def prepare(self, request, pk=None):
        """Compute a draft's lines again from the pool (decisions on negative finals are asked again)."""
        return self._answer(services.prepare_run(self.get_object().pool, by=request.user))

    @extend_schema(request=None, summary="Approve a run", responses={200: PaymentRunDetailSerializer,
                                                                     **RUN_REFUSALS})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Finance or a Manager other than the preparer, once nothing blocks it."""
        return self._answer(services.approve_run(self.get_object(), by=request.user))

    @extend_schema(request=None, summary="Post a run", responses={200: PaymentRunDetailSerializer, **RUN_REFUSALS})
    @action(detail=True, methods=["post"])
    def post(self, request, pk=None):
        """Write the payments and remittance advices, once: posting a posted run writes nothing and answers 200."""
        run, _ = services.post_run(self.get_object(), by=request.user)
        return self._answer(run)

    @extend_schema(request=CancelRunSerializer, summary="Cancel a run",
                   responses={200: PaymentRunDetailSerializer, **RUN_REFUSALS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        body = CancelRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(services.cancel_run(self.get_object(), by=request.user,
                                                reason=body.validated_data.get("reason", "")))

    @extend_schema(request=DecideSerializer, summary="Decide a negative final",
                   responses={200: PaymentRunDetailSerializer, **RUN_REFUSALS})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        run = self.get_object()
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        line = run.lines.filter(pk=body.validated_data["line"]).first()
        if line is None:
            raise DjangoValidationError({"line": f"Line {body.validated_data['line']} is not a line of this run."})
        services.decide(run, line, body.validated_data["decision"], by=request.user)
        return self._answer(run)


class RemittanceAdviceViewSet(viewsets.ReadOnlyModelViewSet):
    """Remittance advices: one per grower and posted run, numbered without gaps, never changed."""

    queryset = RemittanceAdvice.objects.select_related("grower", "pool")
    serializer_class = RemittanceAdviceSerializer
    filterset_class = RemittanceAdviceFilterSet
    action_permissions = {"pdf": ["payments.view_remittanceadvice"], "csv": ["payments.view_remittanceadvice"]}

    @extend_schema(summary="The advice as PDF (A4)", filters=False,
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def pdf(self, request, pk=None):
        advice = self.get_object()
        response = HttpResponse(remittance.pdf(advice, request), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{advice.display_number}.pdf"'
        return response

    @extend_schema(summary="The advice as CSV", filters=False,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def csv(self, request, pk=None):
        advice = self.get_object()
        return stream_csv(f"{advice.display_number}.csv", remittance.CSV_HEADER, remittance.csv_rows(advice))
