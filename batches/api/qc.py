"""QC in the API: /api/defect-types/, /api/batches/{id}/inspections/, /api/qc-inspections/, /api/qc-report/."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import idempotency_key, idempotency_key_parameter
from core.filters import ID_SCHEMA
from core.pagination import DEFAULT_LIMIT, MAX_LIMIT, limit_and_offset
from core.serializers import CharField, FastRepresentationMixin, ModelSerializer, RefuseReadOnlyFieldsMixin
from growers.models import FruitType

from .. import qc, services
from ..models import DefectType, QCDefect, QCInspection, QCResult
from ..qc_filters import DefectTypeFilterSet, QCInspectionFilterSet
from ..qc_forms import QCReportForm
from ..qc_report import qc_report
from ..views import get_batch

# --- serializers ----------------------------------------------------------------------------


class DefectTypeSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    class Meta:
        model = DefectType
        fields = ["id", "code", "name", "fruit_type", "severity", "active"]
        read_only_fields = ["id"]
        extra_kwargs = {"fruit_type": {"help_text": "Empty: the defect applies to any fruit."}}


class DefectTypeUpdateSerializer(DefectTypeSerializer):
    class Meta(DefectTypeSerializer.Meta):
        read_only_fields = ["id", "code"]  # history rows name defects by code


class QCDefectSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="defect_type.code", read_only=True)
    name = serializers.CharField(source="defect_type.name", read_only=True)
    severity = serializers.CharField(source="defect_type.severity", read_only=True)

    class Meta:
        model = QCDefect
        fields = ["defect_type", "code", "name", "severity", "count"]
        read_only_fields = fields


class QCInspectionSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    batch_code = serializers.CharField(source="batch.batch_code", read_only=True)
    inspector = serializers.SlugRelatedField(slug_field="email", read_only=True)
    defects = QCDefectSerializer(many=True, read_only=True)
    defect_percent = serializers.DecimalField(
        max_digits=None, decimal_places=1, read_only=True,
        help_text="All defects found over the sample size, x 100 (a fruit with two defects counts twice).",
    )

    class Meta:
        model = QCInspection
        fields = ["id", "batch", "batch_code", "inspected_at", "inspector", "sample_size", "brix", "firmness_kg",
                  "result", "notes", "defects", "defect_percent"]
        read_only_fields = fields


class DefectCountSerializer(serializers.Serializer):
    defect_type = serializers.PrimaryKeyRelatedField(queryset=DefectType.objects.all())
    count = serializers.IntegerField(min_value=0, max_value=services.MAX_SAMPLE)


class InspectionCreateSerializer(serializers.Serializer):
    """A QC sample of a received or grading batch. A reject result rejects the batch."""

    sample_size = serializers.IntegerField(min_value=1, max_value=services.MAX_SAMPLE, help_text="Fruit counted.")
    result = serializers.ChoiceField(choices=QCResult.choices)
    defects = DefectCountSerializer(many=True, required=False, help_text="Each defect found, at most once.")
    brix = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=services.BRIX_RANGE[0],
                                    max_value=services.BRIX_RANGE[1], required=False, allow_null=True)
    firmness_kg = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=services.FIRMNESS_RANGE[0],
                                           max_value=services.FIRMNESS_RANGE[1], required=False, allow_null=True)
    notes = CharField(required=False, allow_blank=True, max_length=2000)
    inspected_at = serializers.DateTimeField(required=False, help_text="When the sample was counted; default now.")

    def validate_defects(self, value):
        codes = [item["defect_type"].code for item in value]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise serializers.ValidationError(f"Give each defect once: {', '.join(twice)} is repeated.")
        return value

    def validate(self, data):
        over = [f"{item['defect_type'].code} ({item['count']})" for item in data.get("defects", ())
                if item["count"] > data["sample_size"]]
        if over:
            raise serializers.ValidationError(
                {"defects": [f"More fruit with a defect than the {data['sample_size']} sampled: {', '.join(over)}."]})
        return data


class QCReportRowSerializer(serializers.Serializer):
    grower_id = serializers.IntegerField()
    grower_code = serializers.CharField()
    grower_name = serializers.CharField()
    block_id = serializers.IntegerField(allow_null=True)
    farm_code = serializers.CharField(allow_null=True)
    block_code = serializers.CharField(allow_null=True)
    fruit_type = serializers.CharField(allow_null=True)
    variety = serializers.CharField(allow_null=True)
    defect_type_id = serializers.IntegerField(allow_null=True, help_text="null: the block's inspections found none.")
    defect_code = serializers.CharField(allow_null=True)
    defect_name = serializers.CharField(allow_null=True)
    severity = serializers.CharField(allow_null=True)
    inspections = serializers.IntegerField()
    fruit_sampled = serializers.IntegerField(help_text="The sum of the block's sample sizes in the period.")
    defective = serializers.IntegerField(help_text="Fruit found with this defect.")
    defect_percent = serializers.DecimalField(max_digits=None, decimal_places=2,
                                              help_text="defective / fruit_sampled x 100.")


class QCReportSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    inspections = serializers.IntegerField(help_text="Inspections in the period, after the filters.")
    fruit_sampled = serializers.IntegerField()
    items = QCReportRowSerializer(source="rows", many=True)
    total = serializers.IntegerField(help_text="Rows on all pages.")
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


# --- views ----------------------------------------------------------------------------------


@extend_schema_view(
    update=extend_schema(request=DefectTypeUpdateSerializer, responses=DefectTypeSerializer),
    partial_update=extend_schema(request=DefectTypeUpdateSerializer, responses=DefectTypeSerializer),
)
class DefectTypeViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The defect catalogue QC counts against. Every role reads; managers add and edit."""

    queryset = DefectType.objects.all()
    serializer_class = DefectTypeSerializer
    filterset_class = DefectTypeFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        return DefectTypeUpdateSerializer if self.action in ("update", "partial_update") else self.serializer_class

    def perform_create(self, serializer):
        serializer.instance = qc.create_defect_type(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = qc.update_defect_type(serializer.instance, **serializer.validated_data)


def _with_percent(inspections):
    for inspection in inspections:
        inspection.defect_percent = sum(d.count for d in inspection.defects.all()) * 100 / inspection.sample_size
    return inspections


INSPECTIONS = QCInspection.objects.select_related("batch", "inspector").prefetch_related("defects__defect_type")


class QCInspectionViewSet(viewsets.ReadOnlyModelViewSet):
    """QC inspections of every batch, newest first. Every role reads; they are recorded per batch."""

    queryset = INSPECTIONS
    serializer_class = QCInspectionSerializer
    filterset_class = QCInspectionFilterSet

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(_with_percent(page), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(_with_percent([self.get_object()])[0]).data)


class BatchInspectionsView(generics.GenericAPIView):
    """GET: a batch's inspections, newest first. POST: record one (clerks and managers)."""

    queryset = QCInspection.objects.all()  # for RolePermissions: view or add qcinspection
    serializer_class = QCInspectionSerializer
    filterset_class = None

    @extend_schema(operation_id="batches_inspections_list", summary="A batch's QC inspections",
                   responses={200: QCInspectionSerializer(many=True)})
    def get(self, request, pk):
        batch = get_batch(pk)
        page = self.paginate_queryset(INSPECTIONS.filter(batch=batch))
        return self.get_paginated_response(QCInspectionSerializer(_with_percent(page), many=True).data)

    @extend_schema(
        operation_id="batches_inspections_create", summary="Record a QC inspection",
        request=InspectionCreateSerializer, parameters=[idempotency_key_parameter("inspection")],
        responses={201: QCInspectionSerializer,
                   200: OpenApiResponse(QCInspectionSerializer, description="A replayed Idempotency-Key: the first "
                                                                            "inspection.")},
    )
    def post(self, request, pk):
        batch = get_batch(pk)
        key = idempotency_key(request)
        body = InspectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        defects = {item["defect_type"]: item["count"] for item in data.pop("defects", ())}
        if key is None:
            inspection, created = services.record_inspection(batch, **data, defects=defects, by=request.user), True
        else:
            inspection, created = services.record_inspection_once(key, batch, **data, defects=defects, by=request.user)
        inspection = INSPECTIONS.get(pk=inspection.pk)
        return Response(QCInspectionSerializer(_with_percent([inspection])[0]).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CanViewInspections(BasePermission):
    """Every role (accounts/roles.py): anonymous 401, a user without the permission 403."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated
                    and request.user.has_perm("batches.view_qcinspection"))


class QCReportView(APIView):
    """Defect % by grower, block and defect over a period: the QC report page's figures, in one SQL statement."""

    permission_classes = [CanViewInspections]

    @extend_schema(
        operation_id="qc_report", summary="QC defect % by grower, block and defect",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First local date. Default: the current "
                                                                    "season's first day."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last local date, inclusive. Default: the "
                                                                  "current season's last day. At most 3 years."),
            OpenApiParameter("fruit_type", OpenApiTypes.STR, enum=FruitType.values, description="Only this fruit."),
            OpenApiParameter("grower", ID_SCHEMA, description="Only this grower (id)."),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1},
                             description=f"Rows per page; default {DEFAULT_LIMIT}, at most {MAX_LIMIT}."),
            OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="Rows to skip."),
        ],
        responses={200: QCReportSerializer},
    )
    def get(self, request):
        limit, offset = limit_and_offset(request)
        form = QCReportForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({("non_field_errors" if name == "__all__" else name): messages
                                   for name, messages in form.errors.items()})
        report = qc_report(**form.report_kwargs(), limit=limit, offset=offset)
        return Response(QCReportSerializer(report).data)
