from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import services
from .forms import AdminUserChangeForm, AdminUserCreationForm
from .models import User


class UserAdmin(DjangoUserAdmin):
    actions = ["unlock_login"]
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "groups")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may hand out superuser or per-user permissions.
        if request.user.is_superuser:
            return self.readonly_fields
        return self.readonly_fields + ("is_superuser", "user_permissions")

    def save_model(self, request, obj, form, change):
        """Unticking Active goes through the service, which also ends the user's sessions and API tokens."""
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if deactivating:
            services.deactivate_user(obj)

    @admin.action(description="Unlock login (forget failed logins)", permissions=["change"])
    def unlock_login(self, request, queryset):
        """For a user locked out by someone else's failed guesses, or who cannot wait for the cool-off."""
        for user in queryset:
            services.unlock_login(user, by=request.user, via="admin")
        self.message_user(request, f"Unlocked {len(queryset)} user(s): their failed logins are forgotten.")


# The platform admin registers it too (tenants/admin.py), for platform staff on the public schema.
admin.site.register(User, UserAdmin)
