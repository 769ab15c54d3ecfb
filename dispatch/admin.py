"""Admin for loads; writes go through dispatch.services (pallets are scanned on the load's page)."""

from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import services
from .models import Load, LoadPallet


class LoadForm(ServiceForm):
    editable = services.EDITABLE

    class Meta:
        model = Load
        fields = ("packhouse", *services.EDITABLE)

    def create(self, data):
        return services.create_load(by=self.user, **data)

    def change(self, load, changes):
        return services.update_load(load, **changes)


class PalletInline(admin.TabularInline):
    model = LoadPallet
    fields = ("pallet", "added_at", "added_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Load)
class LoadAdmin(ServiceAdmin):
    form = LoadForm
    add_form = LoadForm
    list_display = ("load_number", "packhouse", "status", "vehicle_registration", "container_number", "destination",
                    "dispatched_at")
    list_filter = ("status", "packhouse")
    search_fields = ("load_number", "vehicle_registration", "container_number", "consignee")
    inlines = [PalletInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("load_number", "packhouse", "status", "dispatched_at", "dispatched_by")
        return fixed + (services.EDITABLE if obj.status == "dispatched" else ())
