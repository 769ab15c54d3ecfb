from django.urls import path

from . import views

app_name = "trace"
urlpatterns = [
    path("", views.trace, name="trace"),
    path("trace.csv", views.trace_csv, name="csv"),
]
