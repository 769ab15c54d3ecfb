"""Season pages. Every role that reads batches sees the list (a batch list and a report are filtered by season);
only managers add and edit seasons (accounts/roles.py)."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from core.forms import add_service_error
from core.tenancy import company_today
from core.views import list_query

from . import services
from .filters import SeasonFilterSet
from .forms import SeasonForm
from .models import Season


def get_season(pk):
    """The season of this company, or 404."""
    return get_object_or_404(Season, pk=pk)


@login_required
@permission_required("seasons.view_season", raise_exception=True)
def season_list(request):
    filterset = SeasonFilterSet(request.GET, queryset=Season.objects.all())
    seasons = filterset.qs if filterset.is_valid() else Season.objects.none()
    page = Paginator(seasons, 50).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "current": services.current_season(),
               "ending": services.ending_soon(), "today": company_today(), **list_query(request)}
    return render(request, "seasons/list.html", context)


def _save(form, season=None):
    try:
        if season is None:
            return services.create_season(**form.cleaned_data)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE}
        return services.update_season(season, **changes)
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


@login_required
@permission_required("seasons.add_season", raise_exception=True)
def create(request):
    form = SeasonForm(request.POST or None, initial=_next_season_initial() if request.method == "GET" else None)
    if request.method == "POST" and form.is_valid() and (season := _save(form)):
        messages.success(request, f"Season {season.code} added.")
        return redirect("seasons:list")
    return render(request, "seasons/form.html", {"form": form, "season": None})


@login_required
@permission_required("seasons.change_season", raise_exception=True)
def edit(request, pk):
    season = get_season(pk)
    # The form validates its own copy; the service changes `season` only if it accepts the changes.
    form = SeasonForm(request.POST or None, instance=get_season(pk))
    if request.method == "POST" and form.is_valid() and (saved := _save(form, season)):
        messages.success(request, f"Season {saved.code} saved.")
        return redirect("seasons:list")
    return render(request, "seasons/form.html", {"form": form, "season": season})


def _next_season_initial():
    """A suggestion: the day after the last season ends, to a year after its last day (seasons are yearly)."""
    last = Season.objects.order_by("-end_date").first()
    if last is None:
        return {}
    try:
        start = last.end_date + timedelta(days=1)
        end = last.end_date.replace(year=last.end_date.year + 1, day=min(last.end_date.day, 28)
                                    if (last.end_date.month, last.end_date.day) == (2, 29) else last.end_date.day)
    except (OverflowError, ValueError):  # a season that ends in 9999: nothing to suggest
        return {}
    code = str(int(last.code) + 1) if last.code.isdigit() else ""
    return {"code": code, "start_date": start, "end_date": end}
