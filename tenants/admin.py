"""The platform admin, served on the public host only.

Companies and domains are registered here and never on a company's own
admin (`admin.site`), so no tenant user can reach them.
"""

from django.contrib import admin
from procrastinate.contrib.django import admin as job_admin
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.admin import UserAdmin
from accounts.models import User
from core.admin import LOCAL_NUMBER_OVERRIDES

from .models import Company, Domain


class PlatformAdminSite(admin.AdminSite):
    site_header = "FruitPAK platform"
    site_title = "FruitPAK platform"
    index_title = "Companies and platform staff"


platform_admin = PlatformAdminSite(name="platform_admin")
# Platform staff are users of the public schema.
platform_admin.register(User, UserAdmin)
# procrastinate registers its job pages on admin.site, which is every company's own admin; the job table
# is the platform's (one, in public, with every company's jobs), so they move here.
admin.site.unregister(ProcrastinateJob)
platform_admin.register(ProcrastinateJob, job_admin.ProcrastinateJobAdmin)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Company, site=platform_admin)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "schema_name", "primary_domain", "currency", "time_zone", "mrl_gate", "qc_required",
                    "is_active")
    list_filter = ("is_active", "currency", "mrl_gate", "qc_required")
    # No fieldsets: the form shows every field of the company, mrl_gate and qc_required included (its
    # managers can also change those two on their own Company settings page).
    search_fields = ("name", "schema_name", "domains__domain")
    inlines = [DomainInline]
    formfield_overrides = LOCAL_NUMBER_OVERRIDES

    def get_readonly_fields(self, request, obj=None):
        return ("schema_name", "created_at") if obj else ("created_at",)

    def has_add_permission(self, request):
        # A company needs its schema, roles and first manager made together:
        # `manage.py create_company` does that (see README).
        return False

    def has_delete_permission(self, request, obj=None):
        # Suspend with is_active; dropping a schema is not a click in a browser.
        return False


@admin.register(Domain, site=platform_admin)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain", "tenant__name")
