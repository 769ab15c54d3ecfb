"""Admin for pools, their income and charges, writing through pools.services.

Pools are created here and closed by an action; income is added, never changed (reverse it with a negative
entry); a charge is added, or deleted while its pool is open.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets

from core.admin import ServiceAdmin, ServiceForm
from core.errors import Conflict

from . import services
from .models import ChargeRule, Pool, PoolIncome

POOL_FIELDS = ("season", "code", "name", "fruit_type", "variety")
INCOME_FIELDS = ("pool", "grade", "amount", "received_on", "reference", "reason")
CHARGE_FIELDS = ("pool", "name", "kind", "basis", "rate")


class PoolForm(ServiceForm):
    class Meta:
        model = Pool
        fields = POOL_FIELDS

    def create(self, data):
        return services.create_pool(**{name: data[name] for name in POOL_FIELDS}, by=self.user)


@admin.register(Pool)
class PoolAdmin(ServiceAdmin):
    form = add_form = PoolForm
    list_display = ("code", "name", "season", "fruit_type", "variety", "status", "closed_at")
    list_filter = ("status", "fruit_type")
    search_fields = ("code", "name", "variety")
    list_select_related = ("season",)
    fieldsets = ((None, {"fields": POOL_FIELDS}), ("Record", {"fields": ("status", "created_at", "closed_at")}))
    add_fieldsets = ((None, {"fields": POOL_FIELDS}),)
    actions = ["close_selected"]

    @admin.action(description="Close the selected pools", permissions=["change"])
    def close_selected(self, request, queryset):
        # Queued like the page's Close: a big pool takes seconds, several would time the request out.
        for pool in queryset.order_by("id"):
            try:
                services.queue_close(pool, by=request.user)
            except Conflict as exc:
                self.message_user(request, f"{pool.code}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{pool.code}: closing in the background; its page shows the progress.",
                                  messages.SUCCESS)

    def get_readonly_fields(self, request, obj=None):
        return tuple(flatten_fieldsets(self.fieldsets)) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False


class IncomeForm(ServiceForm):
    class Meta:
        model = PoolIncome
        fields = INCOME_FIELDS

    def create(self, data):
        return services.record_income(data["pool"], **{name: data[name] for name in INCOME_FIELDS[1:]}, by=self.user)


@admin.register(PoolIncome)
class PoolIncomeAdmin(ServiceAdmin):
    form = add_form = IncomeForm
    list_display = ("reference", "pool", "grade", "amount", "received_on", "created_at")
    list_filter = ("grade",)
    search_fields = ("reference", "pool__code")
    list_select_related = ("pool",)
    fieldsets = ((None, {"fields": INCOME_FIELDS}),)
    add_fieldsets = fieldsets

    def get_readonly_fields(self, request, obj=None):
        return INCOME_FIELDS if obj else ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChargeForm(ServiceForm):
    class Meta:
        model = ChargeRule
        fields = CHARGE_FIELDS

    def create(self, data):
        return services.add_charge_rule(data["pool"], **{name: data[name] for name in CHARGE_FIELDS[1:]},
                                        by=self.user)


@admin.register(ChargeRule)
class ChargeRuleAdmin(ServiceAdmin):
    form = add_form = ChargeForm
    list_display = ("name", "pool", "kind", "basis", "rate")
    list_filter = ("kind", "basis")
    list_select_related = ("pool",)
    fieldsets = ((None, {"fields": CHARGE_FIELDS}),)
    add_fieldsets = fieldsets
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return CHARGE_FIELDS if obj else ()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.pool.is_open)

    def delete_model(self, request, obj):
        services.remove_charge_rule(obj, by=request.user)
