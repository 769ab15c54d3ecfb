import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core.csv import stream_csv
from core.errors import Conflict
from core.forms import add_service_error
from core.panels import panels_for
from core.views import list_query

from . import services
from .filters import BatchFilterSet
from .forms import IntakeForm, PackoutForm, TransitionForm
from .models import Batch, Status

PAGE_SIZE = 50
MOVE_LABELS = {
    Status.GRADING: "Start grading",
    Status.PACKING: "Start packing",
    Status.PACKED: "Mark packed",
    Status.DISPATCHED: "Dispatch",
}
CSV_COLUMNS = [
    ("batch_code", "Batch code"), ("intake_date", "Intake"), ("grower__code", "Grower code"),
    ("grower__name", "Grower"), ("packhouse__code", "Packhouse"), ("fruit_type", "Fruit type"),
    ("variety", "Variety"), ("harvest_date", "Harvest date"), ("bin_count", "Bins"),
    ("gross_weight_kg", "Gross kg"), ("tare_weight_kg", "Tare kg"), ("net_weight_kg", "Net kg"),
    ("class1_kg", "Class 1 kg"), ("class2_kg", "Class 2 kg"), ("class3_kg", "Class 3 kg"), ("waste_kg", "Waste kg"),
    ("status", "Status"),
]


def get_batch(pk):
    """The batch of this company, or 404 (another company's ids do not exist in this schema)."""
    return get_object_or_404(Batch.objects.select_related("grower", "packhouse", "created_by"), pk=pk)


@login_required
@permission_required("batches.view_batch", raise_exception=True)
def batch_list(request):
    filterset = BatchFilterSet(request.GET, queryset=Batch.objects.select_related("grower", "packhouse"))
    batches = filterset.qs if filterset.is_valid() else Batch.objects.none()
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "batches/list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("batches.view_batch", raise_exception=True)
def batch_export(request):
    """The current filter as CSV, streamed row by row."""
    filterset = BatchFilterSet(request.GET, queryset=Batch.objects.all())
    if not filterset.is_valid():
        messages.error(request, "Fix the filter before exporting: " + filterset.errors.as_text())
        return redirect("batches:list")
    rows = filterset.qs.values_list(*(name for name, _ in CSV_COLUMNS)).iterator(chunk_size=2000)
    local = timezone.get_current_timezone()
    rows = ((row[0], timezone.localtime(row[1], local).strftime("%Y-%m-%d %H:%M"), *row[2:]) for row in rows)
    filename = f"batches-{timezone.localdate():%Y%m%d}.csv"
    return stream_csv(filename, [label for _, label in CSV_COLUMNS], rows)


@login_required
@permission_required("batches.add_batch", raise_exception=True)
def intake(request):
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            batch, created = services.record_intake_once(data.pop("idempotency_key"), **data, by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            if created:
                messages.success(request, f"Batch {batch.batch_code} recorded.")
            else:
                messages.info(request, f"Batch {batch.batch_code} was already recorded; nothing was added.")
            return redirect("batches:docket", pk=batch.pk)
    return render(request, "batches/intake.html", {"form": form})


@login_required
@permission_required("batches.view_batch", raise_exception=True)
def docket(request, pk):
    batch = get_batch(pk)
    qr = segno.make(batch.batch_code, error="m").svg_inline(scale=3, title=f"QR code of {batch.batch_code}")
    return render(request, "batches/docket.html", {"batch": batch, "qr": mark_safe(qr)})  # noqa: S308 segno's SVG


def _detail(request, batch, packout_form=None, status=200):
    moves = [(to, MOVE_LABELS[to]) for to in batch.allowed_transitions() if to in MOVE_LABELS]
    context = {
        "batch": batch,
        "history": batch.history.select_related("recorded_by"),
        "moves": moves,
        "can_reject": Status.REJECTED in batch.allowed_transitions(),
        "can_packout": batch.status in services.PACKOUT_STATUSES,
        "packout_form": packout_form or PackoutForm(initial={
            "version": batch.version,
            **{name: getattr(batch, name) for name in ("class1_kg", "class2_kg", "class3_kg", "waste_kg")},
        }),
        "reject_form": TransitionForm(initial={"to_status": Status.REJECTED, "version": batch.version}),
        # Higher apps' panels (pallets): batches cannot import them.
        "panels": panels_for("batch", request.user, batch),
    }
    return render(request, "batches/detail.html", context, status=status)


@login_required
@permission_required("batches.view_batch", raise_exception=True)
def detail(request, pk):
    return _detail(request, get_batch(pk))


@require_POST
@login_required
@permission_required("batches.change_batch", raise_exception=True)
def transition(request, pk):
    batch = get_batch(pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The request was incomplete; reload the page and try again.")
        return redirect("batches:detail", pk=batch.pk)
    try:
        batch = services.transition(
            batch, form.cleaned_data["to_status"], by=request.user,
            reason=form.cleaned_data["reason"], expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{batch.batch_code} is now {batch.get_status_display().lower()}.")
    return redirect("batches:detail", pk=batch.pk)


@require_POST
@login_required
@permission_required("batches.change_batch", raise_exception=True)
def packout(request, pk):
    batch = get_batch(pk)
    form = PackoutForm(request.POST)
    if form.is_valid():
        values = dict(form.cleaned_data)
        version = values.pop("version")
        try:
            batch = services.record_packout(batch, **values, by=request.user, expected_version=version)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Pack-out of {batch.batch_code} saved: {batch.packout_percent}%.")
            return redirect("batches:detail", pk=batch.pk)
    return _detail(request, batch, packout_form=form)
