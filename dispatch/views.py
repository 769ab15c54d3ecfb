from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.csv import stream_csv
from core.errors import Conflict
from core.forms import add_service_error
from core.views import list_query
from pallets.models import Pallet, PalletLine

from . import services
from . import trace as tracing
from .filters import LoadFilterSet
from .forms import LoadForm, ScanForm, TraceForm
from .models import Load

PAGE_SIZE = 50


def get_load(pk):
    """The load of this company, or 404 (another company's ids do not exist in this schema)."""
    return get_object_or_404(Load.objects.select_related("packhouse", "dispatched_by", "created_by"), pk=pk)


def with_totals(queryset):
    # GROUP BY drops Meta.ordering: say it again, pages must not overlap.
    return (queryset.annotate(pallet_count=Count("load_pallets", distinct=True),
                              kg=Sum("load_pallets__pallet__lines__kg"))
            .order_by("-created_at", "-id"))


def note_lines(load):
    """The load's pallet lines, for the note and its CSV: one query."""
    return (PalletLine.objects.filter(pallet__load_pallet__load=load)
            .select_related("pallet", "batch").order_by("pallet__sscc", "id"))


def load_totals(lines):
    lines = list(lines)
    return {"pallets": len({line.pallet_id for line in lines}), "cartons": sum(line.cartons for line in lines),
            "kg": sum((line.kg for line in lines), 0)}


def _message(request, exc):
    messages.error(request, exc.message if isinstance(exc, Conflict) else " ".join(exc.messages))


@login_required
@permission_required("dispatch.view_load", raise_exception=True)
def load_list(request):
    filterset = LoadFilterSet(request.GET, queryset=with_totals(Load.objects.select_related("packhouse")))
    loads = filterset.qs if filterset.is_valid() else Load.objects.none()
    page = Paginator(loads, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "dispatch/list.html", {"filter": filterset, "page": page, **list_query(request)})


def _fields(form):
    return {name: form.cleaned_data[name] for name in services.EDITABLE}


@login_required
@permission_required("dispatch.add_load", raise_exception=True)
def load_new(request):
    form = LoadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            load = services.create_load(packhouse=form.cleaned_data["packhouse"], by=request.user, **_fields(form))
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Load {load.load_number} created: scan its pallets.")
            return redirect("dispatch:detail", pk=load.pk)
    return render(request, "dispatch/form.html", {"form": form, "load": None},
                  status=400 if form.errors else 200)


@login_required
@permission_required("dispatch.change_load", raise_exception=True)
def load_edit(request, pk):
    load = get_load(pk)
    form = LoadForm(request.POST or None, instance=get_load(pk))
    form.fields["packhouse"].disabled = True  # its pallets are of that packhouse
    if request.method == "POST" and form.is_valid():
        try:
            services.update_load(load, **{name: form.cleaned_data[name] for name in form.changed_data
                                          if name in services.EDITABLE})
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Load {load.load_number} saved.")
            return redirect("dispatch:detail", pk=load.pk)
    return render(request, "dispatch/form.html", {"form": form, "load": load},
                  status=400 if form.errors else 200)


def _detail(request, load, scan_form=None, status=200):
    lines = list(note_lines(load))
    pallets = {}
    for line in lines:
        entry = pallets.setdefault(line.pallet_id, {"pallet": line.pallet, "cartons": 0, "kg": 0, "batches": set()})
        entry["cartons"] += line.cartons
        entry["kg"] += line.kg
        entry["batches"].add(line.batch.batch_code)
    return render(request, "dispatch/detail.html", {
        "load": load,
        "pallets": [{**entry, "batches": sorted(entry["batches"])} for entry in pallets.values()],
        "totals": load_totals(lines),
        "scan_form": scan_form or ScanForm(),
    }, status=status)


@login_required
@permission_required("dispatch.view_load", raise_exception=True)
def detail(request, pk):
    return _detail(request, get_load(pk))


@require_POST
@login_required
@permission_required("dispatch.change_load", raise_exception=True)
def add_pallet(request, pk):
    load = get_load(pk)
    form = ScanForm(request.POST)
    if form.is_valid():
        try:
            pallet = services.add_pallet(load, form.cleaned_data["sscc"], by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Pallet {pallet.sscc} is on load {load.load_number}.")
            return redirect("dispatch:detail", pk=load.pk)
    return _detail(request, get_load(pk), scan_form=form, status=400)


@require_POST
@login_required
@permission_required("dispatch.change_load", raise_exception=True)
def remove_pallet(request, pk, pallet_pk):
    load = get_load(pk)
    pallet = get_object_or_404(Pallet, pk=pallet_pk)
    try:
        services.remove_pallet(load, pallet, by=request.user)
    except (ValidationError, Conflict) as exc:
        _message(request, exc)
    else:
        messages.success(request, f"Pallet {pallet.sscc} taken off load {load.load_number}.")
    return redirect("dispatch:detail", pk=load.pk)


@require_POST
@login_required
@permission_required("dispatch.change_load", raise_exception=True)
def dispatch(request, pk):
    load = get_load(pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm that the load has left.")
        return redirect("dispatch:detail", pk=load.pk)
    try:
        load = services.dispatch_load(load, by=request.user)
    except (ValidationError, Conflict) as exc:
        _message(request, exc)
    else:
        moved = ", ".join(batch.batch_code for batch in load.batches_dispatched) or "none"
        messages.success(request, f"Load {load.load_number} dispatched. Batches now dispatched: {moved}.")
    return redirect("dispatch:detail", pk=load.pk)


NOTE_HEADER = ["load", "sscc", "batch", "fruit_type", "variety", "grade", "cartons", "kg", "vehicle", "container",
               "seal", "destination", "consignee"]


@login_required
@permission_required("dispatch.view_load", raise_exception=True)
def note(request, pk):
    load = get_load(pk)
    lines = list(note_lines(load))
    return render(request, "dispatch/note.html", {"load": load, "lines": lines, "totals": load_totals(lines)})


@login_required
@permission_required("dispatch.view_load", raise_exception=True)
def note_csv(request, pk):
    load = get_load(pk)
    rows = ([load.load_number, line.pallet.sscc, line.batch.batch_code, line.batch.fruit_type, line.batch.variety,
             line.grade, line.cartons, line.kg, load.vehicle_registration, load.container_number, load.seal_number,
             load.destination, load.consignee] for line in note_lines(load).iterator())
    return stream_csv(f"dispatch-note-{load.load_number}.csv", NOTE_HEADER, rows)


# --- trace ------------------------------------------------------------------------------------------------


@login_required
@permission_required("dispatch.view_load", raise_exception=True)
def trace(request):
    form = TraceForm(request.GET or None)
    result = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        result = tracing.trace(form.cleaned_data["q"])
    return render(request, "dispatch/trace.html", {"form": form, "result": result})


@login_required
@permission_required("dispatch.view_load", raise_exception=True)
def trace_csv(request):
    form = TraceForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    result = tracing.trace(query)
    return stream_csv("trace.csv", tracing.CSV_HEADER, tracing.csv_rows(result))
