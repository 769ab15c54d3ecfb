from rest_framework import serializers

from core.serializers import FastRepresentationMixin, ModelSerializer, RefuseReadOnlyFieldsMixin
from packhouses.models import Packhouse

from ..models import Load


class LoadSerializer(RefuseReadOnlyFieldsMixin, ModelSerializer):
    packhouse = serializers.PrimaryKeyRelatedField(queryset=Packhouse.objects.all())
    container_number = serializers.CharField(max_length=20, required=False, allow_blank=True,
                                             help_text="ISO 6346, check digit validated, e.g. CSQU3054383.")
    pallet_count = serializers.IntegerField(read_only=True, help_text="Pallets on the load.")
    kg = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, help_text="kg on the load.")
    dispatched_by = serializers.EmailField(source="dispatched_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Load
        fields = ["id", "load_number", "packhouse", "vehicle_registration", "container_number", "seal_number",
                  "destination", "consignee", "planned_departure", "status", "dispatched_at", "dispatched_by",
                  "pallet_count", "kg", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "load_number", "status", "dispatched_at", "dispatched_by", "pallet_count", "kg",
                            "version", "created_at", "updated_at"]


class LoadUpdateSerializer(LoadSerializer):
    packhouse = serializers.PrimaryKeyRelatedField(read_only=True)  # its pallets are of that packhouse
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The load's version you read; refused with 409 if it changed.")

    class Meta(LoadSerializer.Meta):
        read_only_fields = [name for name in LoadSerializer.Meta.read_only_fields if name != "version"]


class LoadPalletSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    sscc = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    cartons = serializers.IntegerField(read_only=True)
    kg = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class LoadDetailSerializer(LoadSerializer):
    pallets = LoadPalletSerializer(many=True, read_only=True)

    class Meta(LoadSerializer.Meta):
        fields = [*LoadSerializer.Meta.fields, "pallets"]
        read_only_fields = [*LoadSerializer.Meta.read_only_fields, "pallets"]


class ScanSerializer(serializers.Serializer):
    sscc = serializers.CharField(max_length=24, help_text="18 digits; a scanner's leading AI 00 is accepted.")


class DispatchedSerializer(LoadDetailSerializer):
    batches_dispatched = serializers.ListField(child=serializers.CharField(), read_only=True,
                                               help_text="Codes of the batches this dispatch moved to dispatched.")

    class Meta(LoadDetailSerializer.Meta):
        fields = [*LoadDetailSerializer.Meta.fields, "batches_dispatched"]
        read_only_fields = fields


def _decimal(value):
    # DecimalField(decimal_places=2)'s string for the kg the database holds with two decimals.
    return None if value is None else f"{value:.2f}"


# The trace of a grower's season is 5,000 batches and some 15,000 lines: DRF's own per-row work was most of its
# time (docs/PERFORMANCE.md). The fields say the schema; the batches, their balances and lines are written by
# their own to_representation straight from the trace's rows, the rest by FastRepresentationMixin; a missing
# block, room or load comes out as None, as `default=None` says. test_trace compares it all with DRF's output.
class BalanceSerializer(serializers.Serializer):
    net = serializers.DecimalField(max_digits=14, decimal_places=2)
    class_kg = serializers.DecimalField(max_digits=14, decimal_places=2)
    waste = serializers.DecimalField(max_digits=14, decimal_places=2)
    on_pallets = serializers.DecimalField(max_digits=14, decimal_places=2)
    not_palletised = serializers.DecimalField(max_digits=14, decimal_places=2)
    dispatched = serializers.DecimalField(max_digits=14, decimal_places=2)
    flagged = serializers.BooleanField()
    flags = serializers.ListField(child=serializers.CharField())

    def to_representation(self, balance):
        return {"net": _decimal(balance.net), "class_kg": _decimal(balance.class_kg), "waste": _decimal(balance.waste),
                "on_pallets": _decimal(balance.on_pallets), "not_palletised": _decimal(balance.not_palletised),
                "dispatched": _decimal(balance.dispatched), "flagged": bool(balance.flags),
                "flags": [str(flag) for flag in balance.flags]}


class TraceLineSerializer(serializers.Serializer):
    sscc = serializers.CharField(source="pallet.sscc")
    pallet_status = serializers.CharField(source="pallet.status")
    room = serializers.CharField(source="pallet.room.code", default=None)
    grade = serializers.CharField()
    cartons = serializers.IntegerField()
    kg = serializers.DecimalField(max_digits=12, decimal_places=2)
    load = serializers.CharField(source="load.load_number", default=None)
    load_status = serializers.CharField(source="load.status", default=None)
    destination = serializers.CharField(source="load.destination", default=None)
    consignee = serializers.CharField(source="load.consignee", default=None)

    def to_representation(self, line):
        pallet, load = line.pallet, line.load
        return {
            "sscc": pallet.sscc, "pallet_status": pallet.status,
            "room": pallet.room.code if pallet.room is not None else None,
            "grade": line.grade, "cartons": line.cartons, "kg": _decimal(line.kg),
            "load": load.load_number if load else None, "load_status": load.status if load else None,
            "destination": load.destination if load else None, "consignee": load.consignee if load else None,
        }


class TraceBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    batch_code = serializers.CharField()
    status = serializers.CharField()
    intake_date = serializers.DateTimeField()
    grower = serializers.CharField(source="grower.code")
    farm = serializers.CharField(source="block.farm.code", default=None)
    puc = serializers.CharField(source="block.farm.puc", default=None)
    block = serializers.CharField(source="block.code", default=None)
    fruit_type = serializers.CharField()
    variety = serializers.CharField()
    balance = BalanceSerializer()
    pallets = TraceLineSerializer(many=True, source="trace_lines")

    def to_representation(self, batch):
        block = batch.block if batch.block_id else None
        farm = block.farm if block is not None else None
        balance, line = self.fields["balance"], self.fields["pallets"].child
        return {
            "id": batch.pk, "batch_code": batch.batch_code, "status": batch.status,
            "intake_date": self.fields["intake_date"].to_representation(batch.intake_date),
            "grower": batch.grower.code, "farm": farm.code if farm else None, "puc": farm.puc if farm else None,
            "block": block.code if block else None, "fruit_type": batch.fruit_type, "variety": batch.variety,
            "balance": balance.to_representation(batch.balance),
            "pallets": [line.to_representation(each) for each in batch.trace_lines],
        }


class ClearanceSerializer(FastRepresentationMixin, serializers.Serializer):
    block = serializers.SerializerMethodField()
    season = serializers.CharField(source="season.code")
    cleared_on = serializers.DateField()
    lab_reference = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)

    def get_block(self, obj) -> str:
        return f"{obj.block.farm.code}/{obj.block.code}"


class InspectionSerializer(FastRepresentationMixin, serializers.Serializer):
    batch = serializers.CharField(source="batch.batch_code")
    inspected_at = serializers.DateTimeField()
    sample_size = serializers.IntegerField()
    result = serializers.CharField()


class TraceSerializer(serializers.Serializer):
    query = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField(),
                                  help_text="What the query is: batch, bin, sscc, load, block, grower.")
    truncated = serializers.BooleanField()
    growers = serializers.ListField(child=serializers.CharField())
    blocks = serializers.ListField(child=serializers.CharField())
    clearances = ClearanceSerializer(many=True)
    inspections = InspectionSerializer(many=True)
    batches = TraceBatchSerializer(many=True)
    loads = serializers.ListField(child=serializers.CharField())
    consignees = serializers.ListField(child=serializers.CharField())
    flagged = serializers.ListField(child=serializers.CharField(), help_text="Codes of unbalanced batches.")


# Made once: a new TraceSerializer deep-copies its nested serializers' fields, about a tenth of a one-batch
# trace's time in-process. to_representation only reads them, so threads share it.
TRACE_SERIALIZER = TraceSerializer()


def trace_data(result):
    for batch in result.batches:
        batch.trace_lines = result.lines_by_batch.get(batch.pk, [])
    return TRACE_SERIALIZER.to_representation({
        "query": result.query, "kinds": result.kinds, "truncated": result.truncated,
        "growers": [grower.code for grower in result.growers],
        "blocks": [f"{block.farm.code}/{block.code}" for block in result.blocks],
        "clearances": result.clearances, "inspections": result.inspections, "batches": result.batches,
        "loads": [load.load_number for load in result.load_list], "consignees": result.consignees,
        "flagged": [batch.batch_code for batch in result.flagged],
    })
