from django.urls import path

from . import views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="list"),
    path("new/", views.create, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/reverse/", views.reverse, name="reverse"),
]
