"""Admin for batches: intake and corrections through batches.services, history read-only.

Adding a batch is `record_intake`, changing one is `edit` with the changed
fields only (weights, bins, block and harvest date: a correction, with a reason and
batches.correct_batch; others see them read-only) (see core.admin.ServiceForm for how the service's errors
reach the fields). Status moves and pack-out are done in the app and the API;
here they, the batch code and the net weight are shown read-only.
"""

from django import forms
from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import qc_admin, services  # noqa: F401 (qc_admin registers the QC models)
from .models import Batch, BatchHistory, BinWeightRange

ADD_FIELDS = ("block", "packhouse", "intake_date", "harvest_date", "bin_count", "gross_weight_kg", "tare_weight_kg",
              "notes")
FRUIT_FIELDS = ("block", "fruit_type", "variety", "season", "harvest_date", "bin_count", "gross_weight_kg",
                "tare_weight_kg", "net_weight_kg", "notes")
HEAD_FIELDS = ("batch_code", "status", "rejection_reason", "grower", "packhouse", "intake_date")
PACKOUT_FIELDS = ("class1_kg", "class2_kg", "class3_kg", "waste_kg")
RECORD_FIELDS = ("version", "created_by", "created_at", "updated_at")
READONLY_ON_CHANGE = tuple(
    name for name in HEAD_FIELDS + FRUIT_FIELDS + PACKOUT_FIELDS + RECORD_FIELDS if name not in services.EDITABLE
)


class BatchAddForm(ServiceForm):
    class Meta:
        model = Batch
        fields = ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "intake_date" in self.fields:
            self.fields["intake_date"].required = False
            self.fields["intake_date"].help_text = "When the fruit arrived (blank: now). It dates the batch code."

    # As in the intake form: figures out of the ordinary are recorded only once confirmed (record_intake).
    confirm_unusual = forms.BooleanField(
        required=False, label="Confirm unusual figures",
        help_text="Tick when the page says the net kg per bin or the harvest date is unusual and they are right.",
    )

    def create(self, data):
        return services.record_intake(**{name: data.get(name) for name in ADD_FIELDS}, by=self.user,
                                      confirm_unusual=data.get("confirm_unusual", False))


class BatchChangeForm(ServiceForm):
    editable = services.EDITABLE
    # The version the page was loaded at: a change made meanwhile by someone else is refused, not overwritten.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # A change of weights, bins, block or harvest date is a correction (services.correct_batch): it needs one.
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required when correcting weights, bins, block or harvest date; "
                                       "kept in the history.")
    confirm_unusual = forms.BooleanField(required=False, label="These figures are right: record them",
                                         help_text="Needed when the corrected figures are out of the ordinary.")

    class Meta:
        model = Batch
        fields = services.EDITABLE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("expected_version", self.instance.version)

    def change(self, batch, changes):
        return services.edit(batch, changes, by=self.user, expected_version=self.cleaned_data.get("expected_version"),
                             reason=self.cleaned_data.get("reason", ""),
                             confirm_unusual=self.cleaned_data.get("confirm_unusual", False))


class BatchHistoryInline(admin.TabularInline):
    """Append-only: shown, never added, changed or deleted (the database refuses it too)."""

    model = BatchHistory
    fields = ("recorded_at", "event", "from_status", "to_status", "payload", "recorded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Batch)
class BatchAdmin(ServiceAdmin):
    form = BatchChangeForm
    add_form = BatchAddForm
    inlines = [BatchHistoryInline]
    list_display = ("batch_code", "intake_date", "grower", "packhouse", "fruit_type", "variety", "bin_count",
                    "net_weight_kg", "status")
    list_select_related = ("grower", "packhouse")
    list_filter = ("status", "fruit_type", "packhouse")
    search_fields = ("batch_code", "variety", "grower__code", "grower__name")
    date_hierarchy = "intake_date"
    autocomplete_fields = ("grower",)
    add_fieldsets = (
        ("Delivery", {"fields": ("block", "packhouse", "intake_date")}),
        ("Fruit", {"fields": (*ADD_FIELDS[3:], "confirm_unusual")}),
    )
    fieldsets = (
        (None, {"fields": HEAD_FIELDS}),
        ("Fruit", {"fields": FRUIT_FIELDS}),
        ("Pack-out", {"fields": PACKOUT_FIELDS}),
        ("Record", {"fields": RECORD_FIELDS}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("grower", "packhouse", "created_by", "season",
                                                            "block__farm")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and self.has_change_permission(request, obj):
            *head, (name, options) = fieldsets
            fieldsets = (*head, (name, {**options, "fields": (*options["fields"], "expected_version", "reason",
                                                                "confirm_unusual")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not request.user.has_perm("batches.correct_batch"):
            # Weights, bins, block and harvest date are a manager's correction; others change notes only.
            return READONLY_ON_CHANGE + services.CORRECTED_FIELDS
        return READONLY_ON_CHANGE

    def get_inline_instances(self, request, obj=None):
        # History starts with the intake; an add form has none to show.
        return super().get_inline_instances(request, obj) if obj else []

    def has_change_permission(self, request, obj=None):
        # A dispatched or rejected batch can no longer be edited: its page is view-only.
        if obj is not None and obj.status in services.FROZEN_STATUSES:
            return False
        return super().has_change_permission(request, obj)


class BinWeightRangeForm(ServiceForm):
    editable = ("min_net_kg", "max_net_kg")

    class Meta:
        model = BinWeightRange
        fields = ("fruit_type", "min_net_kg", "max_net_kg")

    def create(self, data):
        return services.set_bin_weight_range(data["fruit_type"], min_net_kg=data["min_net_kg"],
                                             max_net_kg=data["max_net_kg"], by=self.user)

    def change(self, row, changes):
        return services.set_bin_weight_range(row.fruit_type, min_net_kg=changes.get("min_net_kg", row.min_net_kg),
                                             max_net_kg=changes.get("max_net_kg", row.max_net_kg), by=self.user)

    def validate_unique(self):
        """set_bin_weight_range updates the fruit's row if there is one: no duplicate to refuse."""


@admin.register(BinWeightRange)
class BinWeightRangeAdmin(ServiceAdmin):
    """The company's net kg per bin by fruit; a fruit without a row uses the default (batches.models)."""

    form = BinWeightRangeForm
    add_form = BinWeightRangeForm
    list_display = ("fruit_type", "min_net_kg", "max_net_kg", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def get_readonly_fields(self, request, obj=None):
        return ("fruit_type", "updated_at", "updated_by") if obj else ()
