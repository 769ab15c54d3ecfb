from django.urls import path

from . import views

app_name = "growers"
urlpatterns = [
    path("", views.grower_list, name="list"),
    path("search/", views.search, name="search"),
    path("new/", views.create, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:grower_pk>/farms/new/", views.farm_create, name="farm-new"),
    path("farms/", views.farm_list, name="farms"),
    path("farms/<int:pk>/", views.farm_detail, name="farm"),
    path("farms/<int:pk>/edit/", views.farm_edit, name="farm-edit"),
    path("farms/<int:farm_pk>/blocks/new/", views.block_create, name="block-new"),
    path("blocks/", views.block_list, name="blocks"),
    path("blocks/<int:pk>/", views.block_detail, name="block"),
    path("blocks/<int:pk>/edit/", views.block_edit, name="block-edit"),
    path("blocks/<int:pk>/clearances/", views.clearance_create, name="clearance-new"),
]
