from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import render

from accounts.roles import MANAGER
from core.forms import add_service_error
from growers.views import get_grower
from payments.models import RemittanceAdvice

from .dashboard import sections_html, visible_sections
from .exports import reconciliation_csv, reconciliation_filename, statement_csv, statement_filename
from .forms import ReconciliationPageForm, StatementPageForm
from .models import VIEW_PERMISSION
from .report import grower_statement, pool_balances, reconcile


def _csv(lines, filename):
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def report(request):
    """Value next to payments, grower by grower; the same function as the API and the CSV."""
    # Always bound: with nothing asked for, the page shows the current season (report.resolve_period).
    form = ReconciliationPageForm(request.GET)
    result = None
    if form.is_valid():
        try:
            result = reconcile(**form.report_kwargs())
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if request.GET.get("format") == "csv":
                return _csv(reconciliation_csv(result), reconciliation_filename(result))
    query = request.GET.copy()
    query.pop("format", None)
    # The column headers sort by the page's own query with another ordering.
    unsorted = query.copy()
    unsorted.pop("ordering", None)
    ordering = form.cleaned_data.get("ordering") if not form.errors else ""
    # The form's errors are on the page, but the answer is still the 400 the API gives for the same query.
    status = 400 if form.errors else 200
    context = {
        "form": form, "report": result, "query": query.urlencode(), "period": form.period_info,
        "query_without_ordering": unsorted.urlencode(), "ordering": ordering or "grower_code",
        "can_change_settings": request.user.is_superuser or request.user.role == MANAGER,
        "company_thresholds": not any(request.GET.get(name) for name in ("threshold", "threshold_percent")),
    }
    return render(request, "reconciliation/report.html", context, status=status)


def grower_remittances(grower, user):
    """The grower's remittance advices, newest first, for the statement to link to."""
    if not user.has_perm("payments.view_remittanceadvice"):
        return []
    return RemittanceAdvice.objects.filter(grower=grower).select_related("pool").order_by("-number")[:50]


def pool_remittances(grower, balances, user):
    """{pool id: [the grower's remittance advices of that pool]} for the pool balances to link to (one query)."""
    if not balances or not user.has_perm("payments.view_remittanceadvice"):
        return {}
    advices = {}
    for advice in RemittanceAdvice.objects.filter(grower=grower, pool_id__in=[b.pool_id for b in balances]
                                                  ).order_by("number"):
        advices.setdefault(advice.pool_id, []).append(advice)
    return advices


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def statement(request, pk):
    """A grower's statement for a period: printable, and as CSV."""
    grower = get_grower(pk)
    form = StatementPageForm(request.GET or {})
    result = None
    if form.is_valid():
        result = grower_statement(grower, *form.period())
        if request.GET.get("format") == "csv":
            return _csv(statement_csv(result), statement_filename(result))
    query = request.GET.copy()
    query.pop("format", None)
    # The statement page's own part: the grower page's balance panel and the CSV do without it.
    balances = pool_balances(grower, *form.period()) if result else []
    advices = pool_remittances(grower, balances, request.user)
    context = {"grower": grower, "form": form, "statement": result, "query": query.urlencode(),
               "period": form.period_info, "remittances": grower_remittances(grower, request.user),
               "pool_balances": [(balance, advices.get(balance.pool_id, [])) for balance in balances]}
    return render(request, "reconciliation/statement.html", context, status=400 if form.errors else 200)


@login_required
def dashboard(request):
    """The company's day at a glance, each section only for a role that may read it through the API.

    The numbers and their HTML are cached per company (reconciliation/dashboard.py); a user who may see none of them
    gets a page saying so, and nothing is computed for them.
    """
    sections = visible_sections(request.user)
    context = {
        "company": request.tenant, "role": request.user.role, "sections": sections,
        "sections_html": sections_html(request.user, sections) if sections else "",
    }
    return render(request, "reconciliation/dashboard.html", context)
