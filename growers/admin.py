"""Admin for growers. Writes go through growers.services (see core.admin.ServiceForm)."""

from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import services
from .models import Grower

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
