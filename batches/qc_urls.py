"""The QC pages' URLs, included in batches/urls.py (so their names are batches:...)."""

from django.urls import path

from . import qc_views

urlpatterns = [
    path("qc/", qc_views.inspection_list, name="inspections"),
    path("qc/report/", qc_views.report, name="qc_report"),
    path("qc/defect-types/", qc_views.defect_type_list, name="defect_types"),
    path("qc/defect-types/new/", qc_views.defect_type_create, name="defect_type_new"),
    path("qc/defect-types/<int:pk>/edit/", qc_views.defect_type_edit, name="defect_type_edit"),
    path("<int:pk>/qc/", qc_views.inspect, name="inspect"),
]
