from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render

from core.forms import add_service_error
from core.panels import panels_for
from core.views import list_query

from . import services
from .filters import GrowerFilterSet
from .forms import GrowerForm
from .models import Grower

PAGE_SIZE = 50
SUGGESTIONS = 20


def get_grower(pk):
    """The grower of this company, or 404."""
    return get_object_or_404(Grower, pk=pk)


@login_required
@permission_required("growers.view_grower", raise_exception=True)
def grower_list(request):
    filterset = GrowerFilterSet(request.GET, queryset=Grower.objects.all())
    growers = filterset.qs if filterset.is_valid() else Grower.objects.none()
    page = Paginator(growers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "growers/list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("growers.view_grower", raise_exception=True)
def search(request):
    """<option>s for the grower pickers' <datalist>: active growers whose code or name matches."""
    # PostgreSQL refuses NUL in a text parameter; no code or name contains one.
    text = (request.GET.get("q") or request.GET.get("grower") or "").replace("\x00", "").strip()[:100]
    growers = Grower.objects.none()
    if text:
        growers = Grower.objects.filter(active=True).filter(
            Q(code__istartswith=text) | Q(name__icontains=text)
        ).order_by("code")[:SUGGESTIONS]
    return render(request, "growers/options.html", {"growers": growers})


@login_required
@permission_required("growers.view_grower", raise_exception=True)
def detail(request, pk):
    grower = get_grower(pk)
    panels = panels_for("grower", request.user, grower)
    return render(request, "growers/detail.html", {"grower": grower, "panels": panels})


def _save(request, form, grower=None):
    try:
        if grower is None:
            return services.create_grower(**form.cleaned_data)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE}
        return services.update_grower(grower, **changes)
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


@login_required
@permission_required("growers.add_grower", raise_exception=True)
def create(request):
    form = GrowerForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (grower := _save(request, form)):
        messages.success(request, f"Grower {grower.code} added.")
        return redirect("growers:detail", pk=grower.pk)
    return render(request, "growers/form.html", {"form": form, "grower": None})


@login_required
@permission_required("growers.change_grower", raise_exception=True)
def edit(request, pk):
    grower = get_grower(pk)
    # The form validates its own copy; the service changes `grower` only if it accepts the changes.
    form = GrowerForm(request.POST or None, instance=get_grower(pk))
    if request.method == "POST" and form.is_valid() and (saved := _save(request, form, grower)):
        messages.success(request, f"Grower {saved.code} saved.")
        return redirect("growers:detail", pk=saved.pk)
    return render(request, "growers/form.html", {"form": form, "grower": grower})
