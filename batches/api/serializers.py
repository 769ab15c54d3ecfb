from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import (
    BlankAsNullChoiceField,
    CharField,
    FastRepresentationMixin,
    RefuseReadOnlyFieldsMixin,
)
from growers.api.serializers import GrowerRefSerializer
from growers.models import Block, FruitType, Grower
from packhouses.api.serializers import PackhouseRefSerializer
from packhouses.models import Packhouse

from ..forms import MAX_BINS
from ..models import Batch, BatchHistory, Status


def kg(**kwargs):
    return serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, **kwargs)


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class BinCodesField(serializers.Field):
    """The batch's scanned bin codes: the list's `bin_codes` annotation (no query per row), else a query."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, batch):
        codes = getattr(batch, "bin_codes", None)
        if codes is None:
            codes = batch.bins.values_list("code", flat=True)
        return list(codes)


class BatchSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    grower = GrowerRefSerializer(read_only=True)
    packhouse = PackhouseRefSerializer(read_only=True)
    block = serializers.IntegerField(source="block_id", read_only=True, allow_null=True,
                                     help_text="The block the fruit came from (id).")
    farm = serializers.CharField(source="block.farm.code", read_only=True, allow_null=True,
                                 help_text="The block's farm code.")
    block_code = serializers.CharField(source="block.code", read_only=True, allow_null=True)
    season = serializers.CharField(source="season.code", read_only=True, allow_null=True,
                                   help_text="The season (code) holding the intake date.")
    bins = BinCodesField(help_text="The bin codes scanned at intake; empty when the bins were only counted.")
    without_clearance = serializers.BooleanField(
        read_only=True, help_text="Received with no spray clearance for its block and season (mrl_gate=warn).",
    )
    net_weight_kg = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    packout_percent = serializers.DecimalField(
        max_digits=5, decimal_places=1, read_only=True, allow_null=True,
        help_text="Class 1 to 3 kg as a percentage of net kg; null before pack-out.",
    )
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.choices), read_only=True,
        help_text="The statuses this batch may move to next.",
    )

    class Meta:
        model = Batch
        fields = [
            "id", "batch_code", "grower", "packhouse", "block", "farm", "block_code", "season",
            "fruit_type", "variety", "harvest_date", "intake_date", "bin_count", "bins", "without_clearance",
            "gross_weight_kg", "tare_weight_kg", "net_weight_kg",
            "class1_kg", "class2_kg", "class3_kg", "waste_kg", "packout_percent",
            "status", "rejection_reason", "allowed_transitions", "notes", "version", "created_at", "updated_at",
        ]
        read_only_fields = fields


class ReferenceField(serializers.Field):
    """A grower or packhouse as GrowerRefSerializer writes it ({id, code, name}), from the list's columns."""

    def __init__(self, name, **kwargs):
        self.attrs = (f"{name}_id", f"list_{name}_code", f"list_{name}_name")
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, batch):
        pk, code, name = (getattr(batch, attr) for attr in self.attrs)
        return {"id": pk, "code": code, "name": name}


class BatchListRowSerializer(BatchSerializer):
    """BatchSerializer's output for a row of BatchViewSet.list_queryset, whose grower, packhouse, block, farm
    and season come as columns of the batch's own statement (tests compare every row with BatchSerializer)."""

    grower = ReferenceField("grower")
    packhouse = ReferenceField("packhouse")
    farm = serializers.CharField(source="list_farm_code", read_only=True, allow_null=True)
    block_code = serializers.CharField(source="list_block_code", read_only=True, allow_null=True)
    season = serializers.CharField(source="list_season_code", read_only=True, allow_null=True)


class BatchIntakeSerializer(serializers.Serializer):
    """A delivery at the weighbridge, from a block.

    Send `block`. An older integration may instead send `grower`, `fruit_type` and `variety`: that works
    while exactly one active block of the grower matches, and is otherwise a 400 naming the candidates.
    Send `bins` (the scanned codes) or `bin_count`; with bins, the count is their number.
    """

    block = serializers.PrimaryKeyRelatedField(
        queryset=Block.objects.select_related("farm__grower"), required=False,
        help_text="The block the fruit came from (id). Grower, fruit type and variety are the block's.",
    )
    grower = serializers.PrimaryKeyRelatedField(queryset=Grower.objects.all(), required=False,
                                                help_text="Without `block` only: the grower (id).")
    packhouse = serializers.PrimaryKeyRelatedField(queryset=Packhouse.objects.all())
    fruit_type = serializers.ChoiceField(choices=FruitType.choices, required=False,
                                         help_text="Without `block` only.")
    variety = CharField(max_length=100, required=False, help_text="Without `block` only.")
    harvest_date = serializers.DateField()
    intake_date = serializers.DateTimeField(required=False, help_text="When it was weighed; defaults to now.")
    bins = serializers.ListField(
        child=CharField(max_length=40), required=False, max_length=MAX_BINS,
        help_text="The scanned bin codes (1 to 32 capital letters, digits or dashes). Each bin may be in one "
                  "open batch at a time; a code scanned twice is refused.",
    )
    bin_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False,
                                         help_text="Required without `bins`; with them, their number.")
    gross_weight_kg = kg()
    tare_weight_kg = kg()
    notes = CharField(required=False, allow_blank=True, max_length=5000)
    confirm_unusual = serializers.BooleanField(
        required=False, default=False,
        help_text="true: record figures out of the ordinary (net kg per bin outside the company's range for the "
                  "fruit, or a harvest long before delivery). Without it such an intake is a 400 naming "
                  "`confirm_unusual` and saying what is unusual; the batch's history records the override.",
    )

    def validate(self, data):
        block = data.get("block")
        errors = {}
        if block is None:
            missing = [name for name in ("grower", "fruit_type", "variety") if name not in data]
            if missing:
                errors["block"] = ("Send `block` (the block's id), or `grower`, `fruit_type` and `variety` "
                                   "to find the grower's one block of that fruit.")
        else:
            # Named alongside a block, they must be the block's: a mismatch is a mistake, not a choice.
            if "grower" in data and data["grower"].pk != block.farm.grower_id:
                errors["grower"] = f"Block {block} belongs to grower {block.farm.grower.code}."
            if "fruit_type" in data and data["fruit_type"] != block.fruit_type:
                errors["fruit_type"] = f"Block {block} grows {block.fruit_type}."
            if "variety" in data and data["variety"].strip().lower() != block.variety.lower():
                errors["variety"] = f"Block {block} grows {block.variety}."
            for name in ("grower", "fruit_type", "variety"):
                data.pop(name, None)
        if not data.get("bins") and data.get("bin_count") is None:
            errors["bin_count"] = "Send `bin_count`, or the scanned codes in `bins`."
        if errors:
            raise serializers.ValidationError(errors)
        return data


class BatchEditSerializer(RefuseReadOnlyFieldsMixin, serializers.Serializer):
    """Notes, or a manager's correction. Send `version` to refuse the change if someone changed the batch since.

    `notes` alone is an edit (batches.change_batch: clerks and managers). `block`, `harvest_date`, `bin_count`,
    `gross_weight_kg` or `tare_weight_kg` (or a `reason`) make it a correction: it needs
    batches.correct_batch (managers; a clerk gets 403) and a `reason` (400 without one), and writes one
    'corrected' history row with the old and new values and the reason.
    """

    block = serializers.PrimaryKeyRelatedField(
        queryset=Block.objects.select_related("farm__grower"), required=False,
        help_text="Correction. Another block of the same grower (id): fruit type and variety follow it.",
    )
    harvest_date = serializers.DateField(required=False, help_text="Correction.")
    bin_count = serializers.IntegerField(min_value=1, max_value=100_000, required=False, help_text="Correction.")
    gross_weight_kg = kg(required=False, help_text="Correction.")
    tare_weight_kg = kg(required=False, help_text="Correction.")
    notes = CharField(required=False, allow_blank=True, max_length=5000)
    reason = CharField(required=False, allow_blank=True, max_length=2000,
                       help_text="Why the batch is corrected; required with any correction field.")
    confirm_unusual = serializers.BooleanField(
        required=False, default=False,
        help_text="Correction. true: record corrected figures out of the ordinary (net kg per bin outside the "
                  "company's range, a harvest long before delivery); without it they are a 400 naming "
                  "`confirm_unusual`. The history records the override.",
    )
    version = serializers.IntegerField(required=False, min_value=1)

    # The rest of a batch changes only through intake, transition and pack-out.
    also_read_only = [name for name in BatchSerializer.Meta.fields if name not in (
        "block", "harvest_date", "bin_count", "gross_weight_kg", "tare_weight_kg", "notes", "version",
    )]


class TransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Status.choices)
    reason = CharField(required=False, allow_blank=True, max_length=2000,
                                   help_text="Required when rejecting.")
    version = serializers.IntegerField(required=False, min_value=1)


class PackoutSerializer(serializers.Serializer):
    class1_kg = kg()
    class2_kg = kg()
    class3_kg = kg()
    waste_kg = kg()
    version = serializers.IntegerField(required=False, min_value=1)


class BatchHistorySerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    from_status = BlankAsNullChoiceField(choices=Status.choices, help_text="null when the event changed no status.")
    to_status = BlankAsNullChoiceField(choices=Status.choices, help_text="null when the event changed no status.")

    class Meta:
        model = BatchHistory
        fields = ["id", "event", "from_status", "to_status", "payload", "recorded_at", "recorded_by"]
        read_only_fields = fields
