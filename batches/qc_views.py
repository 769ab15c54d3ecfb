"""QC pages: the defect catalogue, a batch's inspection form, the inspections list and the QC report.

Who may do what (accounts/roles.py, docs/decisions.md "QC"): clerks and managers record
inspections; every role reads inspections and the report; only managers keep the catalogue.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from core.csv import stream_csv
from core.errors import Conflict
from core.forms import add_service_error
from core.views import list_query

from . import qc, services
from .models import DefectType, QCInspection
from .qc_filters import DefectTypeFilterSet, QCInspectionFilterSet
from .qc_forms import DefectTypeForm, InspectionForm, QCReportPageForm
from .qc_report import CSV_COLUMNS, PAGE_ROWS, csv_filename, csv_rows, qc_report
from .views import get_batch

PAGE_SIZE = 50


def get_defect_type(pk):
    """The defect type of this company's catalogue, or 404."""
    return get_object_or_404(DefectType, pk=pk)


@login_required
@permission_required("batches.view_defecttype", raise_exception=True)
def defect_type_list(request):
    filterset = DefectTypeFilterSet(request.GET, queryset=DefectType.objects.all())
    defects = filterset.qs if filterset.is_valid() else DefectType.objects.none()
    page = Paginator(defects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "batches/qc_defect_types.html", {"filter": filterset, "page": page, **list_query(request)})


def _save_defect_type(form, defect=None):
    try:
        if defect is None:
            return qc.create_defect_type(**form.cleaned_data)
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in qc.DEFECT_TYPE_EDITABLE}
        return qc.update_defect_type(defect, **changes)
    except ValidationError as exc:
        add_service_error(form, exc)
        return None


@login_required
@permission_required("batches.add_defecttype", raise_exception=True)
def defect_type_create(request):
    form = DefectTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (defect := _save_defect_type(form)):
        messages.success(request, f"Defect {defect.code} added.")
        return redirect("batches:defect_types")
    return render(request, "batches/qc_defect_type_form.html", {"form": form, "defect": None})


@login_required
@permission_required("batches.change_defecttype", raise_exception=True)
def defect_type_edit(request, pk):
    defect = get_defect_type(pk)
    # The form validates its own copy; the service changes `defect` only if it accepts the changes.
    form = DefectTypeForm(request.POST or None, instance=get_defect_type(pk))
    if request.method == "POST" and form.is_valid() and (saved := _save_defect_type(form, defect)):
        messages.success(request, f"Defect {saved.code} saved.")
        return redirect("batches:defect_types")
    return render(request, "batches/qc_defect_type_form.html", {"form": form, "defect": defect})


@login_required
@permission_required("batches.add_qcinspection", raise_exception=True)
def inspect(request, pk):
    """The QC form of a received or grading batch; defect % is shown as the inspector types (static/js/qc.js)."""
    batch = get_batch(pk)
    form = InspectionForm(request.POST or None, defects=qc.defects_for(batch.fruit_type))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                inspection, _ = services.record_inspection_once(form.cleaned_data["idempotency_key"], batch,
                                                                **form.service_kwargs(), by=request.user)
            except (ValidationError, Conflict) as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"QC of {batch.batch_code} recorded: {inspection.get_result_display()}"
                                          + ("; the batch is rejected." if inspection.result == "reject" else "."))
                return redirect("batches:detail", pk=batch.pk)
        status = 400
    context = {"batch": batch, "form": form, "open": batch.status in services.QC_STATUSES}
    return render(request, "batches/qc_inspect.html", context, status=status)


@login_required
@permission_required("batches.view_qcinspection", raise_exception=True)
def inspection_list(request):
    queryset = QCInspection.objects.select_related("batch", "batch__grower", "inspector")
    filterset = QCInspectionFilterSet(request.GET, queryset=queryset)
    inspections = filterset.qs if filterset.is_valid() else QCInspection.objects.none()
    page = Paginator(inspections, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "batches/qc_inspections.html", {"filter": filterset, "page": page, **list_query(request)})


@login_required
@permission_required("batches.view_qcinspection", raise_exception=True)
def report(request):
    """Defect % by grower, block and defect; the same function as the API, and the CSV with every row."""
    form = QCReportPageForm(request.GET)
    result = None
    if form.is_valid():
        csv = request.GET.get("format") == "csv"
        try:
            result = qc_report(**form.report_kwargs(), limit=None if csv else PAGE_ROWS)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if csv:
                return stream_csv(csv_filename(result), [label for _, label in CSV_COLUMNS], csv_rows(result))
    query = request.GET.copy()
    query.pop("format", None)
    context = {"form": form, "report": result, "query": query.urlencode(), "page_rows": PAGE_ROWS}
    return render(request, "batches/qc_report.html", context, status=400 if form.errors else 200)
