"""Import runs in the admin: a list to look back on. Runs are made and confirmed on the imports page only."""

from django.contrib import admin

from .models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "filename", "status", "total_rows", "new_count", "changed_count",
                    "unchanged_count", "refused_count", "created_by", "created_at", "confirmed_by", "finished_at")
    list_filter = ("kind", "status")
    search_fields = ("filename",)
    list_select_related = ("created_by", "confirmed_by")
    exclude = ("content", "rows")
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content", "rows")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ImportRun._meta.fields if field.name not in self.exclude]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
