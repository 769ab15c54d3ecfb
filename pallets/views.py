from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from batches.models import Batch
from batches.models import Status as BatchStatus
from core.errors import Conflict
from core.forms import add_service_error
from core.numbers import format_number
from core.views import list_query

from . import labels, services
from .filters import PalletFilterSet, RoomFilterSet
from .forms import BuildForm, LineForm, MoveForm, RoomForm, ScanMoveForm, VersionForm
from .models import IN_HOUSE, Grade, Pallet, PalletLine, PalletStatus, Room

PAGE_SIZE = 50
# The packed batches offered on an open pallet's page, newest first.
OFFERED_BATCHES = 100


def get_pallet(pk):
    """The pallet of this company, or 404 (another company's ids do not exist in this schema)."""
    return get_object_or_404(Pallet.objects.select_related("packhouse", "room", "built_by"), pk=pk)


def get_room(pk):
    return get_object_or_404(Room.objects.select_related("packhouse"), pk=pk)


def with_totals(queryset):
    # GROUP BY drops Meta.ordering: say it again, pages must not overlap.
    return (queryset.annotate(cartons=Sum("lines__cartons"), kg=Sum("lines__kg"), line_count=Count("lines"))
            .order_by("-built_at", "-id"))


def _message(request, exc):
    messages.error(request, exc.message if isinstance(exc, Conflict) else " ".join(exc.messages))


def _version(request):
    form = VersionForm(request.POST)
    return form.cleaned_data["version"] if form.is_valid() else None


@login_required
@permission_required("pallets.view_pallet", raise_exception=True)
def pallet_list(request):
    queryset = with_totals(Pallet.objects.select_related("packhouse", "room"))
    filterset = PalletFilterSet(request.GET, queryset=queryset)
    pallets = filterset.qs if filterset.is_valid() else Pallet.objects.none()
    page = Paginator(pallets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "pallets/list.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("pallets.add_pallet", raise_exception=True)
def build(request):
    form = BuildForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pallet, created = services.build_pallet_once(data["idempotency_key"], data["packhouse"], by=request.user)
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            if created:
                messages.success(request, f"Pallet {pallet.sscc} built: add its lines.")
            else:
                messages.info(request, f"Pallet {pallet.sscc} was already built; no other SSCC was issued.")
            return redirect("pallets:detail", pk=pallet.pk)
    return render(request, "pallets/build.html", {"form": form})


def _offered_batches(pallet):
    """Packed batches of the pallet's packhouse with kg left to palletise, and how many per grade."""
    batches = list(Batch.objects.filter(packhouse=pallet.packhouse, status=BatchStatus.PACKED)
                   .order_by("-intake_date", "-id")[:OFFERED_BATCHES])
    left = services.remaining_kg(batches)
    return [(batch, left[batch.pk]) for batch in batches if any(kg > 0 for kg in left[batch.pk].values())]


def _detail(request, pallet, line_form=None, status=200):
    lines = pallet.lines.select_related("batch")
    context = {
        "pallet": pallet,
        "lines": lines,
        "totals": services.totals(pallet),
        "history": pallet.history.select_related("recorded_by"),
        "grades": Grade.choices,
    }
    if pallet.status == PalletStatus.OPEN and request.user.has_perm("pallets.change_pallet"):
        context["line_form"] = line_form or LineForm(packhouse=pallet.packhouse, initial={"version": pallet.version})
        context["line_form"].fields["batch"].queryset = context["line_form"].fields["batch"].queryset.filter(
            packhouse=pallet.packhouse)
        context["offered"] = _offered_batches(pallet)
    if pallet.status in (PalletStatus.CLOSED, PalletStatus.STORED):
        context["move_form"] = MoveForm(packhouse=pallet.packhouse, initial={"version": pallet.version})
    return render(request, "pallets/detail.html", context, status=status)


@login_required
@permission_required("pallets.view_pallet", raise_exception=True)
def detail(request, pk):
    return _detail(request, get_pallet(pk))


@require_POST
@login_required
@permission_required("pallets.change_pallet", raise_exception=True)
def add_line(request, pk):
    pallet = get_pallet(pk)
    form = LineForm(request.POST, packhouse=pallet.packhouse)
    if form.is_valid():
        data = form.cleaned_data
        try:
            line, created = services.add_line_once(
                data["idempotency_key"], pallet, batch=data["batch"], grade=data["grade"], cartons=data["cartons"],
                kg=data["kg"], by=request.user, expected_version=data["version"])
        except (ValidationError, Conflict) as exc:
            add_service_error(form, exc)
        else:
            if created:
                messages.success(request, f"{format_number(line.kg)} kg of {line.batch.batch_code} added.")
            else:
                messages.info(request, f"{format_number(line.kg)} kg of {line.batch.batch_code} were already added; "
                                       "nothing was added twice.")
            return redirect("pallets:detail", pk=pallet.pk)
    return _detail(request, get_pallet(pk), line_form=form, status=400)


@require_POST
@login_required
@permission_required("pallets.change_pallet", raise_exception=True)
def remove_line(request, pk, line_pk):
    pallet = get_pallet(pk)
    line = get_object_or_404(PalletLine, pk=line_pk, pallet=pallet)
    try:
        services.remove_line(line, by=request.user, expected_version=_version(request))
    except (ValidationError, Conflict) as exc:
        _message(request, exc)
    else:
        messages.success(request, "Line removed.")
    return redirect("pallets:detail", pk=pallet.pk)


def _step(request, pk, service, done):
    pallet = get_pallet(pk)
    try:
        pallet = service(pallet, by=request.user, expected_version=_version(request))
    except (ValidationError, Conflict) as exc:
        _message(request, exc)
    else:
        messages.success(request, done.format(sscc=pallet.sscc))
    return redirect("pallets:detail", pk=pallet.pk)


@require_POST
@login_required
@permission_required("pallets.change_pallet", raise_exception=True)
def close(request, pk):
    return _step(request, pk, services.close, "Pallet {sscc} closed: print its label.")


@require_POST
@login_required
@permission_required("pallets.reopen_pallet", raise_exception=True)
def reopen(request, pk):
    return _step(request, pk, services.reopen, "Pallet {sscc} is open again.")


@require_POST
@login_required
@permission_required("pallets.change_pallet", raise_exception=True)
def move(request, pk):
    pallet = get_pallet(pk)
    form = MoveForm(request.POST, packhouse=pallet.packhouse)
    if not form.is_valid():
        messages.error(request, "Choose a room of the pallet's packhouse.")
        return redirect("pallets:detail", pk=pallet.pk)
    try:
        pallet = services.move_to_room(pallet, form.cleaned_data["room"], by=request.user,
                                       expected_version=form.cleaned_data["version"])
    except (ValidationError, Conflict) as exc:
        _message(request, exc)
    else:
        messages.success(request, f"Pallet {pallet.sscc} is in room {pallet.room.code}.")
        if pallet.warning:
            messages.warning(request, pallet.warning)
    return redirect("pallets:detail", pk=pallet.pk)


@login_required
@permission_required("pallets.change_pallet", raise_exception=True)
def scan_move(request):
    """Scan a pallet's SSCC, then the room's code: the pallet is stored there."""
    form = ScanMoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        pallet = Pallet.objects.filter(sscc=form.cleaned_data["sscc"]).select_related("packhouse").first()
        room = None
        if pallet is None:
            form.add_error("sscc", "No pallet of this company has that SSCC.")
        else:
            room = Room.objects.filter(packhouse=pallet.packhouse, code=form.cleaned_data["room"]).first()
            if room is None:
                form.add_error("room", f"Packhouse {pallet.packhouse.code} has no room {form.cleaned_data['room']}.")
        if room is not None:
            try:
                pallet = services.move_to_room(pallet, room, by=request.user)
            except (ValidationError, Conflict) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"Pallet {pallet.sscc} is in room {room.code}.")
                if pallet.warning:
                    messages.warning(request, pallet.warning)
                return redirect("pallets:scan")
    return render(request, "pallets/scan.html", {"form": form}, status=400 if form.errors else 200)


def label_context(pallet):
    lines = list(pallet.lines.select_related("batch", "batch__block__farm"))
    barcodes = [
        {"svg": mark_safe(labels.svg(data, f"GS1-128 {labels.human_readable(data)}")),  # noqa: S308 our SVG
         "text": labels.human_readable(data)}
        for data in labels.element_strings(pallet, lines)
    ]
    batches = {line.batch for line in lines}
    return {
        "pallet": pallet,
        "lines": lines,
        "barcodes": barcodes,
        "cartons": sum(line.cartons for line in lines),
        "kg": sum((line.kg for line in lines), 0),
        "fruits": sorted({f"{batch.get_fruit_type_display()} {batch.variety}" for batch in batches}),
        "grades": sorted({line.get_grade_display() for line in lines}),
        "pucs": sorted({batch.block.farm.puc for batch in batches if batch.block and batch.block.farm.puc}),
        "batch_codes": sorted(batch.batch_code for batch in batches),
    }


@login_required
@permission_required("pallets.view_pallet", raise_exception=True)
def label(request, pk):
    return render(request, "pallets/label.html", label_context(get_pallet(pk)))


# --- rooms ------------------------------------------------------------------------------------------------


@login_required
@permission_required("pallets.view_room", raise_exception=True)
def room_list(request):
    queryset = services.rooms_with_stock(Room.objects.select_related("packhouse"))
    filterset = RoomFilterSet(request.GET, queryset=queryset)
    rooms = filterset.qs if filterset.is_valid() else Room.objects.none()
    page = Paginator(rooms, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "pallets/rooms.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("pallets.view_room", raise_exception=True)
def room_stock(request, pk):
    room = get_room(pk)
    lines = (PalletLine.objects.filter(pallet__room=room, pallet__status__in=IN_HOUSE)
             .select_related("pallet", "batch").order_by("pallet__built_at", "pallet_id", "id"))
    page = Paginator(lines, 200).get_page(request.GET.get("page"))
    count = services.room_load(room)
    today = timezone.localdate()
    rows = [(line, (today - timezone.localdate(line.pallet.built_at)).days) for line in page]
    return render(request, "pallets/room_stock.html", {
        "room": room, "page": page, "rows": rows, "count": count,
        "warning": services.over_capacity_message(room, count) if count > room.capacity else None,
    })


def _save_room(form, room=None):
    try:
        if room is None:
            return services.create_room(**form.cleaned_data)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.ROOM_EDITABLE}
        return services.update_room(room, **changes)
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


@login_required
@permission_required("pallets.add_room", raise_exception=True)
def room_new(request):
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (room := _save_room(form)):
        messages.success(request, f"Room {room.code} added.")
        return redirect("pallets:room", pk=room.pk)
    return render(request, "pallets/room_form.html", {"form": form, "room": None})


@login_required
@permission_required("pallets.change_room", raise_exception=True)
def room_edit(request, pk):
    room = get_room(pk)
    form = RoomForm(request.POST or None, instance=get_room(pk))
    for name in ("packhouse", "code"):
        form.fields[name].disabled = True  # scanned labels and history name them
    if request.method == "POST" and form.is_valid() and (saved := _save_room(form, room)):
        messages.success(request, f"Room {saved.code} saved.")
        return redirect("pallets:room", pk=saved.pk)
    return render(request, "pallets/room_form.html", {"form": form, "room": room})
