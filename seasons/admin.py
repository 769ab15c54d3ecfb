"""Admin for seasons; writes go through seasons.services (overlaps and stranded batches are refused there)."""

from django.contrib import admin

from core.admin import ServiceAdmin, ServiceForm

from . import services
from .models import Season


class SeasonForm(ServiceForm):
    editable = services.EDITABLE

    class Meta:
        model = Season
        fields = ("code", "name", "start_date", "end_date")

    def create(self, data):
        return services.create_season(code=data["code"], name=data["name"], start_date=data["start_date"],
                                      end_date=data["end_date"])

    def change(self, season, changes):
        return services.update_season(season, **changes)


@admin.register(Season)
class SeasonAdmin(ServiceAdmin):
    form = SeasonForm
    add_form = SeasonForm
    list_display = ("code", "name", "start_date", "end_date", "updated_at")
    search_fields = ("code", "name")
    fieldsets = ((None, {"fields": ("code", "name", "start_date", "end_date", "created_at", "updated_at")}),)
    add_fieldsets = ((None, {"fields": ("code", "name", "start_date", "end_date")}),)

    def get_readonly_fields(self, request, obj=None):
        # Filters, reports and integrators name a season by its code.
        return ("code", "created_at", "updated_at") if obj else ()
