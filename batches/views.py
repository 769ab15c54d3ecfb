import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.roles import MANAGER
from core.csv import stream_csv
from core.errors import Conflict
from core.forms import add_service_error
from core.panels import panels_for
from core.views import list_query
from growers.models import Block

from . import qc, services
from .filters import BatchFilterSet
from .forms import BinWeightRangesForm, CorrectionForm, IntakeForm, PackoutForm, TransitionForm
from .models import Batch, BinWeightRange, Status

PAGE_SIZE = 50
# The filters folded under "More filters": the bar shows it open, with their count, when any is in use.
MORE_FILTERS = ("grower_code", "farm", "block", "variety", "season", "intake_date_after", "intake_date_before",
                "harvest_date_after", "harvest_date_before", "grower")
SUGGESTIONS = 20
MOVE_LABELS = {
    Status.GRADING: "Start grading",
    Status.PACKING: "Start packing",
    Status.PACKED: "Mark packed",
    Status.DISPATCHED: "Dispatch",
}
CSV_COLUMNS = [
    ("batch_code", "Batch code"), ("intake_date", "Intake"), ("grower__code", "Grower code"),
    ("grower__name", "Grower"), ("block__farm__code", "Farm"), ("block__code", "Block"),
    ("packhouse__code", "Packhouse"), ("fruit_type", "Fruit type"),
    ("variety", "Variety"), ("harvest_date", "Harvest date"), ("bin_count", "Bins"),
    ("gross_weight_kg", "Gross kg"), ("tare_weight_kg", "Tare kg"), ("net_weight_kg", "Net kg"),
    ("class1_kg", "Class 1 kg"), ("class2_kg", "Class 2 kg"), ("class3_kg", "Class 3 kg"), ("waste_kg", "Waste kg"),
    ("status", "Status"),
]


def get_batch(pk):
    """The batch of this company, or 404 (another company's ids do not exist in this schema)."""
    return get_object_or_404(
        Batch.objects.select_related("grower", "packhouse", "created_by", "block__farm", "season"), pk=pk,
    )


@login_required
@permission_required("batches.view_batch", raise_exception=True)
def batch_list(request):
    filterset = BatchFilterSet(request.GET, queryset=Batch.objects.select_related("grower", "packhouse",
                                                                                 "block__farm"))
    batches = filterset.qs if filterset.is_valid() else Batch.objects.none()
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    more_filters_used = sum(1 for name in MORE_FILTERS if request.GET.get(name, "").strip())
    return render(request, "batches/list.html", {
        "filter": filterset, "page": page, "more_filters_used": more_filters_used, **list_query(request),
    })


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
    form = IntakeForm(request.POST or None, initial=_initial(request))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            batch, created = services.record_intake_once(data.pop("idempotency_key"), **data, by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            _remember_intake(request, batch)
            if created:
                messages.success(request, f"Batch {batch.batch_code} recorded.")
            else:
                messages.info(request, f"Batch {batch.batch_code} was already recorded; nothing was added.")
            return redirect("batches:docket", pk=batch.pk)
    recent = _recent_blocks(request)
    return render(request, "batches/intake.html", {"form": form, "recent_blocks": recent})


# A clerk at the weighbridge takes delivery after delivery at one packhouse, often from the same few blocks:
# the next intake starts at the last packhouse, and the block picker offers the last blocks before any typing.
LAST_PACKHOUSE = "intake_last_packhouse"
RECENT_BLOCKS = "intake_recent_blocks"
RECENT_BLOCKS_KEPT = 5


def _remember_intake(request, batch):
    request.session[LAST_PACKHOUSE] = batch.packhouse_id
    if batch.block_id:
        recent = [pk for pk in request.session.get(RECENT_BLOCKS, []) if pk != batch.block_id]
        request.session[RECENT_BLOCKS] = [batch.block_id, *recent][:RECENT_BLOCKS_KEPT]


def _recent_blocks(request):
    ids = [pk for pk in request.session.get(RECENT_BLOCKS, []) if isinstance(pk, int)]
    if not ids:
        return []
    blocks = {block.pk: block for block in _active_blocks().filter(pk__in=ids).select_related("farm__grower")}
    return [blocks[pk] for pk in ids if pk in blocks]


def _initial(request):
    """The last packhouse; ?block=<id> (a link from a block's page) starts the form with that block picked."""
    if request.method != "GET":
        return None
    initial = {}
    packhouse = request.session.get(LAST_PACKHOUSE)
    if isinstance(packhouse, int):
        initial["packhouse"] = packhouse
    pk = request.GET.get("block", "")
    if pk.isdigit():
        block = Block.objects.select_related("farm__grower").filter(pk=int(pk), active=True).first()
        if block:
            initial["block"] = block
    return initial


def _active_blocks():
    return Block.objects.filter(active=True, farm__active=True, farm__grower__active=True)


@login_required
@permission_required("batches.add_batch", raise_exception=True)
def block_options(request):
    """<option>s for the intake form's block <datalist>: active blocks matching every word typed.

    A word matches a grower's code or name, a farm's code or name, or a block's code; "FARM/BLOCK" matches
    that farm and block, so a picked suggestion keeps matching itself.
    """
    # PostgreSQL refuses NUL in a text parameter; no code or name contains one.
    text = (request.GET.get("q") or request.GET.get("block") or "").replace("\x00", "").strip()[:100]
    blocks = Block.objects.none()
    if text:
        blocks = _active_blocks()
        for word in text.split()[:5]:
            farm, slash, code = word.partition("/")
            if slash:
                blocks = blocks.filter(farm__code__iexact=farm, code__istartswith=code)
            else:
                blocks = blocks.filter(
                    Q(farm__grower__code__istartswith=word) | Q(farm__grower__name__icontains=word)
                    | Q(farm__code__istartswith=word) | Q(farm__name__icontains=word) | Q(code__iexact=word)
                )
        blocks = blocks.select_related("farm__grower").order_by("farm__code", "code")[:SUGGESTIONS]
    return render(request, "batches/block_options.html", {"blocks": blocks})


@login_required
@permission_required("batches.view_batch", raise_exception=True)
def docket(request, pk):
    batch = get_batch(pk)
    qr = segno.make(batch.batch_code, error="m").svg_inline(scale=3, title=f"QR code of {batch.batch_code}")
    return render(request, "batches/docket.html", {
        "batch": batch, "qr": mark_safe(qr),  # noqa: S308 segno's SVG
        "bins": list(batch.bins.values_list("code", flat=True)),
    })


def _detail(request, batch, packout_form=None, status=200):
    moves = [(to, MOVE_LABELS[to]) for to in batch.allowed_transitions() if to in MOVE_LABELS]
    context = {
        "batch": batch,
        "bins": list(batch.bins.values_list("code", flat=True)),
        "history": batch.history.select_related("recorded_by"),
        "moves": moves,
        "can_reject": Status.REJECTED in batch.allowed_transitions(),
        "can_packout": batch.status in services.PACKOUT_STATUSES,
        "packout_form": packout_form or PackoutForm(initial={
            "version": batch.version,
            **{name: getattr(batch, name) for name in ("class1_kg", "class2_kg", "class3_kg", "waste_kg")},
        }),
        "reject_form": TransitionForm(initial={"to_status": Status.REJECTED, "version": batch.version}),
        # QC (batches/qc_views.py): the inspections shown, and why grading must wait for one.
        "inspections": qc.inspections_of(batch),
        "grading_needs_qc": Status.GRADING in batch.allowed_transitions() and services.grading_needs_qc(batch),
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


@login_required
def bin_weight_ranges(request):
    """The company's usual net kg per bin of each fruit: its managers set them, like the company settings."""
    if not (request.user.is_superuser or request.user.role == MANAGER):
        raise PermissionDenied
    form = BinWeightRangesForm(request.POST or None, ranges=BinWeightRange.all_ranges())
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # all the fruits or none
                for fruit, (low, high) in form.changed_ranges().items():
                    services.set_bin_weight_range(fruit, min_net_kg=low, max_net_kg=high, by=request.user)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(f"{fruit}_{'min' if name == 'min_net_kg' else 'max'}"
                               if name in ("min_net_kg", "max_net_kg") else None, errors)
        else:
            messages.success(request, "Net kg per bin saved. They apply from the next intake.")
            return redirect("batches:bin_weight_ranges")
    return render(request, "batches/bin_weight_ranges.html", {"form": form})


@login_required
@permission_required("batches.correct_batch", raise_exception=True)
def correct(request, pk):
    """A manager corrects weights, bins, block or harvest date, with a reason (services.correct_batch)."""
    batch = get_batch(pk)
    form = CorrectionForm.for_batch(batch, request.POST or None)
    if request.method == "POST" and form.is_valid() and not form.changes():
        form.add_error(None, "Nothing was changed: every value is what the batch already has.")
    elif request.method == "POST" and form.is_valid():
        try:
            batch = services.correct_batch(batch, form.changes(), reason=form.cleaned_data["reason"],
                                           by=request.user, expected_version=form.cleaned_data["version"],
                                           confirm_unusual=form.cleaned_data["confirm_unusual"])
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{batch.batch_code} corrected.")
            return redirect("batches:detail", pk=batch.pk)
    return render(request, "batches/correct.html", {"batch": batch, "form": form})
