from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from core.forms import add_service_error
from core.panels import panels_for
from core.views import list_query

from . import services
from .filters import PackhouseFilterSet
from .forms import PackhouseForm
from .models import Packhouse


def get_packhouse(pk):
    """The packhouse of this company, or 404."""
    return get_object_or_404(Packhouse, pk=pk)


@login_required
@permission_required("packhouses.view_packhouse", raise_exception=True)
def packhouse_list(request):
    filterset = PackhouseFilterSet(request.GET, queryset=Packhouse.objects.all())
    packhouses = filterset.qs if filterset.is_valid() else Packhouse.objects.none()
    page = Paginator(packhouses, 50).get_page(request.GET.get("page"))
    return render(request, "packhouses/list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("packhouses.view_packhouse", raise_exception=True)
def detail(request, pk):
    packhouse = get_packhouse(pk)
    panels = panels_for("packhouse", request.user, packhouse)
    return render(request, "packhouses/detail.html", {"packhouse": packhouse, "panels": panels})


def _save(form, packhouse=None):
    try:
        if packhouse is None:
            return services.create_packhouse(**form.cleaned_data)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE}
        return services.update_packhouse(packhouse, **changes)
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


@login_required
@permission_required("packhouses.add_packhouse", raise_exception=True)
def create(request):
    form = PackhouseForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (packhouse := _save(form)):
        messages.success(request, f"Packhouse {packhouse.code} added.")
        return redirect("packhouses:detail", pk=packhouse.pk)
    return render(request, "packhouses/form.html", {"form": form, "packhouse": None})


@login_required
@permission_required("packhouses.change_packhouse", raise_exception=True)
def edit(request, pk):
    packhouse = get_packhouse(pk)
    # The form validates its own copy; the service changes `packhouse` only if it accepts the changes.
    form = PackhouseForm(request.POST or None, instance=get_packhouse(pk))
    if request.method == "POST" and form.is_valid() and (saved := _save(form, packhouse)):
        messages.success(request, f"Packhouse {saved.code} saved.")
        return redirect("packhouses:detail", pk=saved.pk)
    return render(request, "packhouses/form.html", {"form": form, "packhouse": packhouse})
