from django.urls import path

from . import views

app_name = "packhouses"
urlpatterns = [
    path("", views.packhouse_list, name="list"),
    path("new/", views.create, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
]
