"""GET /api/reconciliation/ and GET /api/intake/daily/."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.filters import ID_SCHEMA
from core.pagination import DEFAULT_LIMIT, MAX_LIMIT, EnvelopePagination, limit_and_offset
from growers.models import FruitType

from ..filters import DailyIntakeFilterSet, ReconciliationForm
from ..models import VIEW_PERMISSION, DailyGrowerIntake
from ..report import ORDERING_CHOICES, reconcile
from .serializers import DailyIntakeSerializer, ReconciliationPageSerializer


class HasPermission(BasePermission):
    """The user's role holds `permission`; anonymous requests get 401, other roles 403."""

    permission = None

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(self.permission))


class CanViewReconciliation(HasPermission):
    # Finance and Manager (accounts/roles.py grants "view" on the reconciliation app to both); not Clerk.
    permission = VIEW_PERMISSION


class CanViewBatches(HasPermission):
    # Daily intake is a sum of batches, so whoever may read batches may read it: all three roles.
    permission = "batches.view_batch"


def _form_parameters():
    form = ReconciliationForm()
    field = form.fields
    return [
        OpenApiParameter("from", OpenApiTypes.DATE, description=field["from"].help_text),
        OpenApiParameter("to", OpenApiTypes.DATE, description=field["to"].help_text),
        OpenApiParameter("season", {"type": "string", "maxLength": 20}, description=field["season"].help_text),
        OpenApiParameter("grower", ID_SCHEMA, description=field["grower"].help_text),
        OpenApiParameter("packhouse", ID_SCHEMA, description=field["packhouse"].help_text),
        OpenApiParameter("fruit_type", OpenApiTypes.STR, enum=FruitType.values,
                         description=field["fruit_type"].help_text),
        OpenApiParameter("threshold", {"type": "number", "minimum": 0, "maximum": 999_999_999_999.99},
                         description=field["threshold"].help_text),
        OpenApiParameter("threshold_percent", {"type": "number", "minimum": 0, "maximum": 99_999.99},
                         description=field["threshold_percent"].help_text),
        OpenApiParameter("flagged", OpenApiTypes.BOOL, description=field["flagged"].help_text),
        OpenApiParameter("ordering", OpenApiTypes.STR, enum=ORDERING_CHOICES,
                         description=field["ordering"].help_text),
        OpenApiParameter("limit", {"type": "integer", "minimum": 1},
                         description=f"Rows per page, 1 or more; default {DEFAULT_LIMIT}, at most {MAX_LIMIT}."),
        OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="Rows to skip, 0 or more."),
    ]


class ReconciliationView(APIView):
    """Reconciliation: per grower, what the period's fruit is worth next to what was paid.

    Finance and managers only. One row per grower with batches or payments in
    the period (with a packhouse or fruit filter: with such batches). The
    dates are the company's local dates; money is in the company's currency.
    """

    permission_classes = [CanViewReconciliation]

    @extend_schema(
        operation_id="reconciliation_report", summary="Reconciliation by grower",
        parameters=_form_parameters(), responses={200: ReconciliationPageSerializer},
    )
    def get(self, request):
        limit, offset = limit_and_offset(request)
        form = ReconciliationForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({
                ("non_field_errors" if name == "__all__" else name): messages
                for name, messages in form.errors.items()
            })
        report = reconcile(**form.report_kwargs(), limit=limit, offset=offset)
        return Response(ReconciliationPageSerializer(report).data)


class DailyIntakeView(generics.ListAPIView):
    """Intake per local day, grower, packhouse and fruit, from the daily_grower_intake view.

    Without day_after, day_before or season: the current season's days (every day while the company has
    no season yet).

    Refreshed shortly after each intake (debounced) and by
    `manage.py refresh_intake_view`, so it may lag the batches by a little.
    """

    queryset = DailyGrowerIntake.objects.select_related("grower", "packhouse")
    serializer_class = DailyIntakeSerializer
    filterset_class = DailyIntakeFilterSet
    pagination_class = EnvelopePagination
    permission_classes = [CanViewBatches]

    @extend_schema(operation_id="intake_daily_list", summary="Daily intake by grower, packhouse and fruit")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
