from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.forms import add_service_error
from core.panels import panels_for
from core.views import list_query

from . import services
from .filters import BlockFilterSet, FarmFilterSet, GrowerFilterSet
from .forms import BlockForm, ClearanceForm, FarmForm, GrowerForm
from .models import Block, Farm, Grower

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
    farms = grower.farms.prefetch_related("blocks")
    return render(request, "growers/detail.html", {"grower": grower, "farms": farms, "panels": panels})


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


# --- Farms and blocks -------------------------------------------------------------


def get_farm(pk):
    """The farm of this company, with its grower, or 404."""
    return get_object_or_404(Farm.objects.select_related("grower"), pk=pk)


def get_block(pk):
    """The block of this company, with its farm and grower, or 404."""
    return get_object_or_404(Block.objects.select_related("farm__grower"), pk=pk)


@login_required
@permission_required("growers.view_farm", raise_exception=True)
def farm_list(request):
    farms = Farm.objects.select_related("grower").annotate(block_count=Count("blocks")).order_by("code")
    filterset = FarmFilterSet(request.GET, queryset=farms)
    farms = filterset.qs if filterset.is_valid() else Farm.objects.none()
    page = Paginator(farms, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "growers/farm_list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("growers.view_block", raise_exception=True)
def block_list(request):
    blocks = Block.objects.select_related("farm__grower")
    filterset = BlockFilterSet(request.GET, queryset=blocks)
    blocks = filterset.qs if filterset.is_valid() else Block.objects.none()
    page = Paginator(blocks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "growers/block_list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("growers.view_farm", raise_exception=True)
def farm_detail(request, pk):
    farm = get_farm(pk)
    return render(request, "growers/farm_detail.html", {"farm": farm, "blocks": farm.blocks.all()})


@login_required
@permission_required("growers.view_block", raise_exception=True)
def block_detail(request, pk):
    block = get_block(pk)
    return _block_page(request, block, ClearanceForm())


def _block_page(request, block, clearance_form):
    clearances = block.clearances.select_related("season")
    panels = panels_for("block", request.user, block)
    return render(request, "growers/block_detail.html", {
        # Not "block": inside {% block %} that name is the template block.
        "orchard_block": block, "farm": block.farm, "clearances": clearances, "clearance_form": clearance_form,
        "panels": panels,
    })


def _call(form, service, *args, **kwargs):
    """The service's result, or None with its refusal on the form."""
    try:
        return service(*args, **kwargs)
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


def _changes(form, editable):
    return {name: form.cleaned_data[name] for name in form.changed_data if name in editable}


@login_required
@permission_required("growers.add_farm", raise_exception=True)
def farm_create(request, grower_pk):
    grower = get_grower(grower_pk)
    form = FarmForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (
        farm := _call(form, services.create_farm, grower=grower, **form.cleaned_data)
    ):
        messages.success(request, f"Farm {farm.code} added.")
        return redirect("growers:farm", pk=farm.pk)
    return render(request, "growers/farm_form.html", {"form": form, "grower": grower, "farm": None})


@login_required
@permission_required("growers.change_farm", raise_exception=True)
def farm_edit(request, pk):
    farm = get_farm(pk)
    # The form validates its own copy; the service changes `farm` only if it accepts the changes.
    form = FarmForm(request.POST or None, instance=get_farm(pk))
    if request.method == "POST" and form.is_valid() and (
        saved := _call(form, services.update_farm, farm, **_changes(form, services.FARM_EDITABLE))
    ):
        messages.success(request, f"Farm {saved.code} saved.")
        return redirect("growers:farm", pk=saved.pk)
    return render(request, "growers/farm_form.html", {"form": form, "grower": farm.grower, "farm": farm})


@login_required
@permission_required("growers.add_block", raise_exception=True)
def block_create(request, farm_pk):
    farm = get_farm(farm_pk)
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (
        block := _call(form, services.create_block, farm=farm, **form.cleaned_data)
    ):
        messages.success(request, f"Block {block} added.")
        return redirect("growers:block", pk=block.pk)
    return render(request, "growers/block_form.html", {"form": form, "farm": farm, "orchard_block": None})


@login_required
@permission_required("growers.change_block", raise_exception=True)
def block_edit(request, pk):
    block = get_block(pk)
    form = BlockForm(request.POST or None, instance=get_block(pk))
    if request.method == "POST" and form.is_valid() and (
        saved := _call(form, services.update_block, block, **_changes(form, services.BLOCK_EDITABLE))
    ):
        messages.success(request, f"Block {saved} saved.")
        return redirect("growers:block", pk=saved.pk)
    return render(request, "growers/block_form.html", {"form": form, "farm": block.farm, "orchard_block": block})


@login_required
@permission_required("growers.add_sprayclearance", raise_exception=True)
@require_POST
def clearance_create(request, pk):
    block = get_block(pk)
    form = ClearanceForm(request.POST)
    if form.is_valid() and (
        clearance := _call(form, services.record_clearance, block=block, **form.cleaned_data)
    ):
        messages.success(request, f"Spray clearance {clearance.lab_reference} recorded for season "
                                  f"{clearance.season.code}.")
        return redirect("growers:block", pk=block.pk)
    return _block_page(request, block, form)
