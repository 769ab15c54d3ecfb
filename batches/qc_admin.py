"""Admin for QC: the defect catalogue through batches.qc, inspections read-only (they are records).

Imported by batches/admin.py, which Django's admin autodiscovery loads.
"""

from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import qc
from .models import DefectType, QCDefect, QCInspection

FIELDS = ("code", "name", "fruit_type", "severity", "active")


class DefectTypeForm(ServiceForm):
    editable = qc.DEFECT_TYPE_EDITABLE

    class Meta:
        model = DefectType
        fields = FIELDS

    def create(self, data):
        return qc.create_defect_type(**{name: data[name] for name in FIELDS})

    def change(self, defect, changes):
        return qc.update_defect_type(defect, **changes)


@admin.register(DefectType)
class DefectTypeAdmin(ServiceAdmin):
    form = DefectTypeForm
    add_form = DefectTypeForm
    list_display = FIELDS
    list_filter = ("fruit_type", "severity", "active")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        # History rows name defects by code.
        return ("code",) if obj else ()


class QCDefectInline(admin.TabularInline):
    model = QCDefect
    fields = ("defect_type", "count")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QCInspection)
class QCInspectionAdmin(admin.ModelAdmin):
    """Append-only (the database refuses changes): shown, never added, changed or deleted here.

    An inspection is recorded on the batch's QC page or through the API, where it can reject the batch.
    """

    inlines = [QCDefectInline]
    list_display = ("batch", "inspected_at", "result", "sample_size", "brix", "firmness_kg", "inspector")
    list_select_related = ("batch", "inspector")
    list_filter = ("result",)
    search_fields = ("batch__batch_code",)
    date_hierarchy = "inspected_at"
    fields = ("batch", "inspected_at", "inspector", "sample_size", "brix", "firmness_kg", "result", "notes")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
