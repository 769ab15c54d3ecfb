"""Admin for packhouses; writes go through packhouses.services."""

from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import services
from .models import Packhouse


class PackhouseForm(ServiceForm):
    editable = services.EDITABLE

    class Meta:
        model = Packhouse
        fields = ("code", "name", "region", "active")

    def create(self, data):
        return services.create_packhouse(code=data["code"], name=data["name"], region=data["region"],
                                         active=data["active"])

    def change(self, packhouse, changes):
        return services.update_packhouse(packhouse, **changes)


@admin.register(Packhouse)
class PackhouseAdmin(ServiceAdmin):
    form = PackhouseForm
    add_form = PackhouseForm
    list_display = ("code", "name", "region", "active", "updated_at")
    list_filter = ("active", "region")
    search_fields = ("code", "name", "region")
    fieldsets = ((None, {"fields": ("code", "name", "region", "active", "created_at", "updated_at")}),)
    add_fieldsets = ((None, {"fields": ("code", "name", "region", "active")}),)

    def get_readonly_fields(self, request, obj=None):
        # The code is part of every batch code made at the packhouse.
        return ("code", "created_at", "updated_at") if obj else ()
