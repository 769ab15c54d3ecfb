from django.urls import path

from . import views

app_name = "dispatch"
urlpatterns = [
    path("", views.load_list, name="list"),
    path("new/", views.load_new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.load_edit, name="edit"),
    path("<int:pk>/pallets/", views.add_pallet, name="add_pallet"),
    path("<int:pk>/pallets/<int:pallet_pk>/remove/", views.remove_pallet, name="remove_pallet"),
    path("<int:pk>/dispatch/", views.dispatch, name="dispatch"),
    path("<int:pk>/note/", views.note, name="note"),
    path("<int:pk>/note.csv", views.note_csv, name="note_csv"),
]
