"""Admin for price agreements and grower payments, writing through payments.services.

A payment is a record: it can be added here, then only viewed. A mistake is
corrected by reversing it (the action "Reverse the selected payments", through
services.reverse_payment) or by a new adjustment, never by changing or deleting the row (the
database refuses both). An agreement can be ended or repriced; what it
prices and from when are fixed once made.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from core.admin import ServiceAdmin, ServiceForm
from core.errors import Conflict

from . import services
from .forms import ReverseForm
from .models import GrowerPayment, PaymentRun, PaymentRunLine, PriceAgreement, RemittanceAdvice

AGREEMENT_FIELDS = ("fruit_type", "variety", "grade", "valid_from", "valid_to", "price_per_kg", "notes")
PAYMENT_FIELDS = ("grower", "payment_type", "amount", "reference", "paid_date", "notes")


class PriceAgreementForm(ServiceForm):
    editable = services.PRICE_EDITABLE

    class Meta:
        model = PriceAgreement
        fields = AGREEMENT_FIELDS

    def create(self, data):
        return services.create_price_agreement(**{name: data[name] for name in AGREEMENT_FIELDS}, by=self.user)

    def change(self, agreement, changes):
        return services.update_price_agreement(agreement, **changes)


@admin.register(PriceAgreement)
class PriceAgreementAdmin(ServiceAdmin):
    form = PriceAgreementForm
    add_form = PriceAgreementForm
    list_display = ("fruit_type", "variety_or_any", "grade", "valid_from", "valid_to", "price_per_kg", "updated_at")
    list_filter = ("fruit_type", "grade")
    search_fields = ("variety", "notes")
    list_select_related = ("created_by",)
    fieldsets = (
        (None, {"fields": AGREEMENT_FIELDS}),
        ("Record", {"fields": ("created_by", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"fields": AGREEMENT_FIELDS}),)

    @admin.display(description="variety", ordering="variety")
    def variety_or_any(self, agreement):
        return agreement.variety or "any"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return tuple(name for name in AGREEMENT_FIELDS if name not in services.PRICE_EDITABLE) + (
            "created_by", "created_at", "updated_at",
        )


class GrowerPaymentForm(ServiceForm):
    class Meta:
        model = GrowerPayment
        fields = PAYMENT_FIELDS

    def create(self, data):
        return services.record_payment(**{name: data[name] for name in PAYMENT_FIELDS}, by=self.user)


@admin.register(GrowerPayment)
class GrowerPaymentAdmin(ServiceAdmin):
    form = GrowerPaymentForm
    add_form = GrowerPaymentForm
    list_display = ("reference", "paid_date", "grower", "payment_type", "amount", "created_by", "created_at")
    list_select_related = ("grower", "created_by")
    list_filter = ("payment_type",)
    search_fields = ("reference", "grower__code", "grower__name", "notes")
    date_hierarchy = "paid_date"
    autocomplete_fields = ("grower",)
    fieldsets = (
        (None, {"fields": PAYMENT_FIELDS}),
        ("Record", {"fields": ("created_by", "created_at", "idempotency_key")}),
    )
    add_fieldsets = ((None, {"fields": PAYMENT_FIELDS}),)

    actions = ["reverse_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("grower", "created_by")

    @admin.action(description="Reverse the selected payments", permissions=["add"])
    def reverse_selected(self, request, queryset):
        """Asks for the reason on a page of its own, then reverses each payment through the service."""
        form = ReverseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for payment in queryset.order_by("id"):
                try:
                    reversal = services.reverse_payment(payment, reason=form.cleaned_data["reason"], by=request.user)
                except (ValidationError, Conflict) as exc:
                    message = exc.message if isinstance(exc, Conflict) else " ".join(exc.messages)
                    self.message_user(request, f"{payment.reference}: {message}", messages.ERROR)
                else:
                    self.message_user(request, f"{payment.reference} reversed by {reversal.reference}.",
                                      messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/payments/reverse.html", {
            **self.admin_site.each_context(request), "title": "Reverse payments", "payments": queryset,
            "form": form, "opts": self.model._meta, "action": "reverse_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    def get_readonly_fields(self, request, obj=None):
        # Never changed: an existing payment shows every field read-only.
        return tuple(flatten_fieldsets(self.fieldsets)) if obj else ()

    def has_change_permission(self, request, obj=None):
        return False


class PaymentRunLineInline(admin.TabularInline):
    model = PaymentRunLine
    fields = ("grower", "gross", "charges", "already_paid", "final", "decision")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _run_action(service, done):
    def act(modeladmin, request, queryset):
        for run in queryset.order_by("id"):
            try:
                service(run, by=request.user)
            except (ValidationError, Conflict, PermissionDenied) as exc:
                message = exc.message if isinstance(exc, Conflict) else " ".join(getattr(exc, "messages", [str(exc)]))
                modeladmin.message_user(request, f"{run.reference}: {message}", messages.ERROR)
            else:
                modeladmin.message_user(request, f"{run.reference} {done}.", messages.SUCCESS)
    return act


@admin.register(PaymentRun)
class PaymentRunAdmin(admin.ModelAdmin):
    """Runs are prepared on the pool page; here they are read, approved, posted or cancelled through the services."""

    list_display = ("reference", "pool", "status", "prepared_by", "prepared_at", "approved_by", "posted_at")
    list_filter = ("status",)
    list_select_related = ("pool", "prepared_by", "approved_by")
    search_fields = ("pool__code",)
    readonly_fields = ("pool", "status", "prepared_by", "prepared_at", "approved_by", "approved_at", "posted_by",
                       "posted_at", "cancelled_by", "cancelled_at")
    fields = readonly_fields
    inlines = [PaymentRunLineInline]
    actions = ["approve_selected", "post_selected", "cancel_selected"]

    @admin.action(description="Approve the selected runs", permissions=["change"])
    def approve_selected(self, request, queryset):
        _run_action(services.approve_run, "approved")(self, request, queryset)

    @admin.action(description="Post the selected runs", permissions=["change"])
    def post_selected(self, request, queryset):
        _run_action(services.post_run, "posted")(self, request, queryset)

    @admin.action(description="Cancel the selected runs", permissions=["change"])
    def cancel_selected(self, request, queryset):
        _run_action(services.cancel_run, "cancelled")(self, request, queryset)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The actions need it; the form itself has only read-only fields.
        return request.user.has_perm("payments.change_paymentrun")


@admin.register(RemittanceAdvice)
class RemittanceAdviceAdmin(admin.ModelAdmin):
    """Immutable documents: read here, printed from their page."""

    list_display = ("display_number", "paid_date", "grower", "pool", "run", "final")
    list_select_related = ("grower", "pool", "run")
    search_fields = ("grower__code", "pool__code")
    readonly_fields = ("number", "run", "grower", "pool", "issued_at", "paid_date", "gross", "charges",
                       "already_paid", "final", "decision", "breakdown")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
