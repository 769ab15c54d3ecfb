from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import Conflict
from core.forms import add_service_error
from core.panels import panels_for
from core.tenancy import company_today
from core.views import list_query

from . import services
from .closing import progress
from .filters import PoolFilterSet
from .forms import ChargeForm, IncomeForm, PoolForm
from .models import ChargeRule, Pool
from .summary import pool_summary


def get_pool(pk):
    """The pool of this company, or 404 (another company's ids do not exist in this schema)."""
    return get_object_or_404(Pool.objects.select_related("season", "created_by", "closed_by"), pk=pk)


@login_required
@permission_required("pools.view_pool", raise_exception=True)
def pool_list(request):
    filterset = PoolFilterSet(request.GET, queryset=Pool.objects.select_related("season"))
    pools = filterset.qs if filterset.is_valid() else Pool.objects.none()
    page = Paginator(pools, 50).get_page(request.GET.get("page"))
    return render(request, "pools/list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("pools.add_pool", raise_exception=True)
def create(request):
    form = PoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pool = services.create_pool(**form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Pool {pool.code} created.")
            return redirect("pools:detail", pk=pool.pk)
    return render(request, "pools/form.html", {"form": form})


@login_required
@permission_required("pools.view_pool", raise_exception=True)
def detail(request, pk):
    pool = get_pool(pk)
    closing = pool.closings.first()
    return render(request, "pools/detail.html", {
        "pool": pool, "summary": pool_summary(pool),
        "income": pool.income.select_related("created_by").order_by("-received_on", "-id")[:100],
        "charges": list(pool.charges.order_by("id")),
        "history": pool.history.select_related("recorded_by")[:20],
        "panels": panels_for("pool", request.user, pool),
        "closing": closing, "progress": closing and progress(closing),
    })


@login_required
@permission_required("pools.add_poolincome", raise_exception=True)
def income(request, pk):
    pool = get_pool(pk)
    form = IncomeForm(request.POST or None, initial={"received_on": company_today()})
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.record_income(pool, **form.cleaned_data, by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Income {entry.reference} recorded.")
            return redirect("pools:detail", pk=pool.pk)
    return render(request, "pools/income_form.html", {"form": form, "pool": pool})


@login_required
@permission_required("pools.add_chargerule", raise_exception=True)
def charge(request, pk):
    pool = get_pool(pk)
    form = ChargeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.add_charge_rule(pool, **form.cleaned_data, by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Charge {rule.name} added.")
            return redirect("pools:detail", pk=pool.pk)
    return render(request, "pools/charge_form.html", {"form": form, "pool": pool})


@require_POST
@login_required
@permission_required("pools.delete_chargerule", raise_exception=True)
def remove_charge(request, pk, rule_pk):
    pool = get_pool(pk)
    rule = get_object_or_404(ChargeRule, pk=rule_pk, pool=pool)
    try:
        services.remove_charge_rule(rule, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Charge {rule.name} removed.")
    return redirect("pools:detail", pk=pool.pk)


@login_required
@permission_required("pools.view_pool", raise_exception=True)
def settlement(request, pk):
    """Each grower's lines: the preview before closing, the settlement after."""
    pool = get_pool(pk)
    growers = pool_summary(pool).growers
    return render(request, "pools/settlement.html", {
        "pool": pool, "growers": growers, "charges": list(pool.charges.order_by("id")),
        "totals": {name: sum((getattr(g, name) for g in growers), 0)
                   for name in ("gross", "charges_total", "already_paid", "final")},
    })


@require_POST
@login_required
@permission_required("pools.change_pool", raise_exception=True)
def close(request, pk):
    pool = get_pool(pk)
    try:
        services.queue_close(pool, by=request.user)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, f"Closing pool {pool.code} in the background; this page shows the progress.")
    return redirect("pools:detail", pk=pool.pk)


@login_required
@permission_required("pools.view_pool", raise_exception=True)
def closing(request, pk):
    """The progress box of a queued close, polled by htmx; once the close is over, the whole page reloads."""
    pool = get_pool(pk)
    latest = pool.closings.first()
    response = render(request, "pools/closing.html", {"pool": pool, "closing": latest,
                                                      "progress": latest and progress(latest)})
    if latest is None or not latest.active:
        response["HX-Refresh"] = "true"
    return response
