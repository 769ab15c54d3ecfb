from django.urls import path

from . import qc_urls, views

app_name = "batches"
urlpatterns = [
    path("", views.batch_list, name="list"),
    path("export.csv", views.batch_export, name="export"),
    path("new/", views.intake, name="intake"),
    path("blocks/", views.block_options, name="block_options"),
    path("bin-weights/", views.bin_weight_ranges, name="bin_weight_ranges"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/docket/", views.docket, name="docket"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/packout/", views.packout, name="packout"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    *qc_urls.urlpatterns,
]
