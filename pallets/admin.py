"""Admin for rooms and pallets; writes go through pallets.services."""

from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import services
from .models import Pallet, PalletHistory, PalletLine, Room


class RoomForm(ServiceForm):
    editable = services.ROOM_EDITABLE

    class Meta:
        model = Room
        fields = ("packhouse", "code", "name", "capacity", "active")

    def create(self, data):
        return services.create_room(**data)

    def change(self, room, changes):
        return services.update_room(room, **changes)


@admin.register(Room)
class RoomAdmin(ServiceAdmin):
    form = RoomForm
    add_form = RoomForm
    list_display = ("code", "name", "packhouse", "capacity", "active")
    list_filter = ("active", "packhouse")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        # Scanned at the door and named in pallet history.
        return ("packhouse", "code", "created_at", "updated_at") if obj else ()


class BuildForm(ServiceForm):
    """Building a pallet issues its SSCC; lines, closing and moves are on the pallet's page."""

    class Meta:
        model = Pallet
        fields = ("packhouse",)

    def create(self, data):
        return services.build_pallet(data["packhouse"], by=self.user)


class LineInline(admin.TabularInline):
    model = PalletLine
    fields = ("batch", "grade", "cartons", "kg", "added_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class HistoryInline(admin.TabularInline):
    model = PalletHistory
    fields = ("recorded_at", "event", "payload", "recorded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Pallet)
class PalletAdmin(ServiceAdmin):
    form = BuildForm
    add_form = BuildForm
    list_display = ("sscc", "packhouse", "status", "room", "built_at")
    list_filter = ("status", "packhouse")
    search_fields = ("sscc",)
    inlines = [LineInline, HistoryInline]
    readonly_fields = ("sscc", "packhouse", "status", "room", "built_at", "built_by", "version")
    fieldsets = ((None, {"fields": readonly_fields}),)
    add_fieldsets = ((None, {"fields": ("packhouse",)}),)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj else []
