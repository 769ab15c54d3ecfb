"""Admin for growers. Writes go through growers.services (see core.admin.ServiceForm)."""

from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import services
from .models import Block, Farm, Grower, SprayClearance

FIELDS = ("code", "name", "contact_name", "email", "phone", "region", "ggn", "active")


class GrowerForm(ServiceForm):
    editable = services.EDITABLE

    class Meta:
        model = Grower
        fields = FIELDS

    def create(self, data):
        return services.create_grower(**{name: data[name] for name in FIELDS})

    def change(self, grower, changes):
        return services.update_grower(grower, **changes)


@admin.register(Grower)
class GrowerAdmin(ServiceAdmin):
    form = GrowerForm
    add_form = GrowerForm
    list_display = ("code", "name", "contact_name", "phone", "region", "ggn", "active")
    list_filter = ("active", "region")
    search_fields = ("code", "name", "contact_name", "email", "ggn")
    fieldsets = (
        (None, {"fields": ("code", "name", "region", "ggn", "active")}),
        ("Contact", {"fields": ("contact_name", "email", "phone")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"fields": ("code", "name", "region", "ggn", "active")}),
        ("Contact", {"fields": ("contact_name", "email", "phone")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Statements and integrators key on the code.
        return ("code", "created_at", "updated_at") if obj else ()


FARM_FIELDS = ("grower", "code", "name", "puc", "ggn", "region", "active")


class FarmForm(ServiceForm):
    editable = services.FARM_EDITABLE

    class Meta:
        model = Farm
        fields = FARM_FIELDS

    def create(self, data):
        return services.create_farm(**{name: data[name] for name in FARM_FIELDS})

    def change(self, farm, changes):
        return services.update_farm(farm, **changes)


class BlockInline(admin.TabularInline):
    """The farm's blocks, to read: a block is added and changed on its own page, through the services."""

    model = Block
    fields = ("code", "fruit_type", "variety", "hectares", "planted_year", "active")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Farm)
class FarmAdmin(ServiceAdmin):
    form = FarmForm
    add_form = FarmForm
    list_display = ("code", "name", "grower", "puc", "ggn", "region", "active")
    list_filter = ("active", "region")
    list_select_related = ("grower",)
    search_fields = ("code", "name", "puc", "ggn", "grower__code", "grower__name")
    autocomplete_fields = ("grower",)
    inlines = [BlockInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # a new farm has no blocks yet

    def get_readonly_fields(self, request, obj=None):
        # Batches, certificates and export documents name the farm by its code, under its grower.
        return ("grower", "code", "created_at", "updated_at") if obj else ()


BLOCK_FIELDS = ("farm", "code", "fruit_type", "variety", "hectares", "planted_year", "active")


class BlockForm(ServiceForm):
    editable = services.BLOCK_EDITABLE

    class Meta:
        model = Block
        fields = BLOCK_FIELDS

    def create(self, data):
        return services.create_block(**{name: data[name] for name in BLOCK_FIELDS})

    def change(self, block, changes):
        return services.update_block(block, **changes)


@admin.register(Block)
class BlockAdmin(ServiceAdmin):
    form = BlockForm
    add_form = BlockForm
    list_display = ("__str__", "fruit_type", "variety", "hectares", "planted_year", "active")
    list_filter = ("active", "fruit_type")
    list_select_related = ("farm",)
    search_fields = ("code", "variety", "farm__code", "farm__name", "farm__grower__code")
    autocomplete_fields = ("farm",)

    def get_readonly_fields(self, request, obj=None):
        return ("farm", "code", "created_at", "updated_at") if obj else ()


CLEARANCE_FIELDS = ("block", "season", "cleared_on", "lab_reference", "valid_until")


class SprayClearanceForm(ServiceForm):
    class Meta:
        model = SprayClearance
        fields = CLEARANCE_FIELDS

    def create(self, data):
        return services.record_clearance(**{name: data[name] for name in CLEARANCE_FIELDS})


@admin.register(SprayClearance)
class SprayClearanceAdmin(ServiceAdmin):
    """A clearance is a lab's record: recorded, never changed (a new test is a new clearance)."""

    form = SprayClearanceForm
    add_form = SprayClearanceForm
    list_display = ("block", "season", "cleared_on", "lab_reference", "valid_until")
    list_filter = ("season",)
    list_select_related = ("block__farm", "season")
    search_fields = ("lab_reference", "block__code", "block__farm__code")
    autocomplete_fields = ("block",)
    date_hierarchy = "cleared_on"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return (*CLEARANCE_FIELDS, "created_at") if obj else ()
