from django.urls import path

from . import views

app_name = "pools"
urlpatterns = [
    path("", views.pool_list, name="list"),
    path("new/", views.create, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/income/", views.income, name="income"),
    path("<int:pk>/charges/", views.charge, name="charge"),
    path("<int:pk>/charges/<int:rule_pk>/remove/", views.remove_charge, name="remove-charge"),
    path("<int:pk>/settlement/", views.settlement, name="settlement"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/closing/", views.closing, name="closing"),
]
