from django.urls import path

from . import views

app_name = "growers"
urlpatterns = [
    path("", views.grower_list, name="list"),
    path("search/", views.search, name="search"),
    path("new/", views.create, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
]
