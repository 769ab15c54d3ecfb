from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.csv import stream_csv
from core.errors import Conflict
from core.forms import add_service_error
from core.tenancy import company_today
from core.views import list_query
from pools.models import Pool

from . import remittance, services
from .filters import GrowerPaymentFilterSet, PaymentRunFilterSet, RemittanceAdviceFilterSet
from .forms import CancelRunForm, DecisionForm, PaymentForm, ReverseForm
from .models import GrowerPayment, PaymentRun, PaymentRunLine, PaymentType, RemittanceAdvice, RunStatus


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


# --- Payment runs and remittance advices --------------------------------------------------------------------------

RUN_ERRORS = (ValidationError, Conflict, PermissionDenied)


def _refusal(exc):
    return exc.message if isinstance(exc, Conflict) else " ".join(getattr(exc, "messages", None) or [str(exc)])


def get_run(pk):
    """The run of this company, or 404."""
    return get_object_or_404(PaymentRun.objects.select_related(
        "pool__season", "prepared_by", "approved_by", "posted_by", "cancelled_by"), pk=pk)


@login_required
@permission_required("payments.view_paymentrun", raise_exception=True)
def run_list(request):
    filterset = PaymentRunFilterSet(request.GET, queryset=PaymentRun.objects.select_related(
        "pool__season", "prepared_by", "approved_by").annotate(line_count=Count("lines"), total=Sum("lines__final"))
        .order_by("-prepared_at", "-id"))
    runs = filterset.qs if filterset.is_valid() else PaymentRun.objects.none()
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(request, "payments/runs/list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("payments.view_paymentrun", raise_exception=True)
def run_detail(request, pk):
    run = get_run(pk)
    return render(request, "payments/runs/detail.html", {
        "run": run, "lines": [
            {"line": line, "grades": remittance.grade_lines(line.breakdown),
             "charges": remittance.charge_lines(line.breakdown)}
            for line in run.lines.select_related("grower").order_by("grower__code")
        ],
        "issues": services.validation_issues(run) if run.status == RunStatus.DRAFT else [],
        "remittances": run.remittances.select_related("grower").order_by("number"),
        "history": run.history.select_related("recorded_by")[:20],
        "may_change": request.user.has_perm("payments.change_paymentrun"),
        "cancel_form": CancelRunForm(),
    })


@require_POST
@login_required
@permission_required("payments.add_paymentrun", raise_exception=True)
def prepare(request, pool_pk):
    """Prepare a pool's run, or recompute its draft."""
    pool = get_object_or_404(Pool, pk=pool_pk)
    try:
        run = services.prepare_run(pool, by=request.user)
    except RUN_ERRORS as exc:
        messages.error(request, _refusal(exc))
        return redirect("pools:detail", pk=pool.pk)
    messages.success(request, f"{run.reference} prepared from pool {pool.code}.")
    return redirect("payments:run-detail", pk=run.pk)


def _run_action(request, pk, act, done):
    run = get_run(pk)
    try:
        act(run)
    except RUN_ERRORS as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, done(run))
    return redirect("payments:run-detail", pk=run.pk)


@require_POST
@login_required
@permission_required("payments.change_paymentrun", raise_exception=True)
def approve(request, pk):
    return _run_action(request, pk, lambda run: services.approve_run(run, by=request.user),
                       lambda run: f"{run.reference} approved.")


@require_POST
@login_required
@permission_required("payments.change_paymentrun", raise_exception=True)
def post(request, pk):
    outcome = {}

    def act(run):
        outcome["posted"] = services.post_run(run, by=request.user)[1]

    return _run_action(request, pk, act, lambda run: f"{run.reference} posted: payments and remittance advices "
                       "written." if outcome["posted"] else f"{run.reference} was already posted; nothing was added.")


@require_POST
@login_required
@permission_required("payments.change_paymentrun", raise_exception=True)
def cancel(request, pk):
    form = CancelRunForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _run_action(request, pk, lambda run: services.cancel_run(run, by=request.user, reason=reason),
                       lambda run: f"{run.reference} cancelled.")


@require_POST
@login_required
@permission_required("payments.change_paymentrun", raise_exception=True)
def decide(request, pk, line_pk):
    run = get_run(pk)
    line = get_object_or_404(PaymentRunLine, pk=line_pk, run=run)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose carry forward or hold.")
        return redirect("payments:run-detail", pk=run.pk)
    return _run_action(request, pk, lambda run: services.decide(run, line, form.cleaned_data["decision"],
                                                                by=request.user),
                       lambda run: f"Decision recorded for {line.breakdown['grower_code']}.")


def get_remittance(pk):
    return get_object_or_404(RemittanceAdvice.objects.select_related("grower", "pool", "run"), pk=pk)


@login_required
@permission_required("payments.view_remittanceadvice", raise_exception=True)
def remittance_list(request):
    filterset = RemittanceAdviceFilterSet(request.GET, queryset=RemittanceAdvice.objects.select_related(
        "grower", "pool", "run"))
    advices = filterset.qs if filterset.is_valid() else RemittanceAdvice.objects.none()
    page = Paginator(advices, 50).get_page(request.GET.get("page"))
    return render(request, "payments/remittances/list.html", {"filter": filterset, "page": page,
                                                               **list_query(request)})


@login_required
@permission_required("payments.view_remittanceadvice", raise_exception=True)
def remittance_detail(request, pk):
    return render(request, "payments/remittances/document.html", remittance.context(get_remittance(pk)))


@login_required
@permission_required("payments.view_remittanceadvice", raise_exception=True)
def remittance_pdf(request, pk):
    advice = get_remittance(pk)
    response = HttpResponse(remittance.pdf(advice, request), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{advice.display_number}.pdf"'
    return response


@login_required
@permission_required("payments.view_remittanceadvice", raise_exception=True)
def remittance_csv(request, pk):
    advice = get_remittance(pk)
    return stream_csv(f"{advice.display_number}.csv", remittance.CSV_HEADER, remittance.csv_rows(advice))
