from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import Conflict
from core.forms import add_service_error
from core.tenancy import company_today
from core.views import list_query

from . import services
from .filters import GrowerPaymentFilterSet
from .forms import PaymentForm, ReverseForm
from .models import GrowerPayment, PaymentType


@login_required
@permission_required("payments.view_growerpayment", raise_exception=True)
def payment_list(request):
    filterset = GrowerPaymentFilterSet(request.GET, queryset=GrowerPayment.objects.select_related("grower"))
    payments = filterset.qs if filterset.is_valid() else GrowerPayment.objects.none()
    page = Paginator(payments, 50).get_page(request.GET.get("page"))
    return render(request, "payments/list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("payments.add_growerpayment", raise_exception=True)
def create(request):
    form = PaymentForm(request.POST or None, initial={"paid_date": company_today()})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("confirmation")
        needs_confirmation = abs(data["amount"]) > services.payment_confirm_amount()
        if needs_confirmation and "change" in request.POST:
            return render(request, "payments/form.html", {"form": form})
        if needs_confirmation and not form.is_confirmed() and abs(data["amount"]) <= services.payment_max_amount():
            # A payment is never changed afterwards: a large one is read back before it is recorded.
            return render(request, "payments/confirm.html", {
                "form": form, "payment": data, "token": form.confirmation_token(),
                "confirm_amount": services.payment_confirm_amount(),
                "type_label": PaymentType(data["payment_type"]).label,
            })
        try:
            payment, created = services.record_payment_once(data.pop("idempotency_key"), **data, by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            if created:
                messages.success(request, f"Payment {payment.reference} recorded.")
            else:
                messages.info(request, f"Payment {payment.reference} was already recorded; nothing was added.")
            return redirect("payments:list")
    return render(request, "payments/form.html", {"form": form})


def get_payment(pk):
    """The payment of this company, or 404 (another company's ids do not exist in this schema)."""
    return get_object_or_404(
        GrowerPayment.objects.select_related("grower", "created_by", "reverses", "reversed_by"), pk=pk,
    )


def _detail(request, payment, form=None):
    may_reverse = (request.user.has_perm("payments.add_growerpayment") and payment.reverses_id is None
                   and payment.reversal is None)
    return render(request, "payments/detail.html", {
        "payment": payment, "may_reverse": may_reverse, "form": form or ReverseForm(),
    })


@login_required
@permission_required("payments.view_growerpayment", raise_exception=True)
def detail(request, pk):
    return _detail(request, get_payment(pk))


@require_POST
@login_required
@permission_required("payments.add_growerpayment", raise_exception=True)
def reverse(request, pk):
    """Finance or a manager reverses a payment: a new opposite adjustment, linked (services.reverse_payment)."""
    payment = get_payment(pk)
    form = ReverseForm(request.POST)
    if form.is_valid():
        try:
            reversal = services.reverse_payment(payment, reason=form.cleaned_data["reason"], by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{payment.reference} reversed by {reversal.reference}.")
            return redirect("payments:detail", pk=payment.pk)
    return _detail(request, get_payment(pk), form)
