import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.forms import add_service_error
from core.views import list_query

from . import services
from .forms import UploadForm
from .imports import STATUSES, processed
from .kinds import kind_for, may_import
from .models import ImportRun, Kind, Status

ROWS_PER_PAGE = 100
RUNS_PER_PAGE = 20


def get_run(request, pk):
    """The import run of this company, or 404; 403 when the user's role may not import its kind."""
    run = get_object_or_404(ImportRun.objects.select_related("created_by", "confirmed_by").defer("content"), pk=pk)
    if not may_import(request.user, run.kind):
        raise PermissionDenied
    return run


def _kinds(user):
    return [(value, label, kind_for(value)) for value, label in Kind.choices if may_import(user, value)]


@login_required
@permission_required("onboarding.add_importrun", raise_exception=True)
def index(request):
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = services.upload(kind=form.cleaned_data["kind"], filename=upload.name, content=upload.read(),
                                  by=request.user)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            return redirect("onboarding:detail", pk=run.pk)
    kinds = _kinds(request.user)
    runs = (ImportRun.objects.filter(kind__in=[value for value, _, _ in kinds]).select_related("created_by")
            .defer("content", "rows"))
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "onboarding/index.html", {"form": form, "kinds": kinds, "page": page,
                                                     **list_query(request)})


@login_required
@permission_required("onboarding.add_importrun", raise_exception=True)
def template_csv(request, kind):
    if kind not in Kind.values:
        raise Http404
    if not may_import(request.user, kind):
        raise PermissionDenied
    importer = kind_for(kind)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    writer = csv.writer(response)
    writer.writerow(importer.column_names)
    writer.writerow([column.example for column in importer.columns])
    return response


@login_required
@permission_required("onboarding.view_importrun", raise_exception=True)
def detail(request, pk):
    run = get_run(request, pk)
    run.processed_rows = processed(run)
    shown = request.GET.get("status", "")
    rows = [row for row in run.rows if row["status"] == shown] if shown in STATUSES else run.rows
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "onboarding/detail.html", {
        "run": run, "page": page, "shown": shown if shown in STATUSES else "", "statuses": STATUSES,
        **list_query(request),
    })


@login_required
@permission_required("onboarding.view_importrun", raise_exception=True)
def progress(request, pk):
    """The progress box, polled by htmx while a job works; once it is done, the whole page reloads."""
    run = get_run(request, pk)
    run.processed_rows = processed(run)
    response = render(request, "onboarding/progress.html", {"run": run})
    if not run.running:
        response["HX-Refresh"] = "true"
    return response


@login_required
@permission_required("onboarding.add_importrun", raise_exception=True)
@require_POST
def confirm(request, pk):
    run = get_run(request, pk)
    try:
        run = services.confirm(run, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("onboarding:detail", pk=run.pk)
    if run.running:
        messages.info(request, f"Importing {run.total_rows} rows in the background; this page shows the progress.")
    elif run.status == Status.DONE:
        messages.success(request, f"Imported: {run.new_count} new, {run.changed_count} changed, "
                                  f"{run.unchanged_count} unchanged.")
    else:
        messages.error(request, run.error)
    return redirect("onboarding:detail", pk=run.pk)
