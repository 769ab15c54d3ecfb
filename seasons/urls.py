from django.urls import path

from . import views

app_name = "seasons"
urlpatterns = [
    path("", views.season_list, name="list"),
    path("new/", views.create, name="new"),
    path("<int:pk>/edit/", views.edit, name="edit"),
]
