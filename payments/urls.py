from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="list"),
    path("new/", views.create, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/reverse/", views.reverse, name="reverse"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/prepare/<int:pool_pk>/", views.prepare, name="run-prepare"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/approve/", views.approve, name="run-approve"),
    path("runs/<int:pk>/post/", views.post, name="run-post"),
    path("runs/<int:pk>/cancel/", views.cancel, name="run-cancel"),
    path("runs/<int:pk>/lines/<int:line_pk>/decide/", views.decide, name="run-decide"),
    path("remittances/", views.remittance_list, name="remittance-list"),
    path("remittances/<int:pk>/", views.remittance_detail, name="remittance-detail"),
    path("remittances/<int:pk>/pdf/", views.remittance_pdf, name="remittance-pdf"),
    path("remittances/<int:pk>/csv/", views.remittance_csv, name="remittance-csv"),
]
