from django.urls import path

from . import views

app_name = "pallets"
urlpatterns = [
    path("", views.pallet_list, name="list"),
    path("build/", views.build, name="build"),
    path("move/", views.scan_move, name="scan"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/label/", views.label, name="label"),
    path("<int:pk>/lines/", views.add_line, name="add_line"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.remove_line, name="remove_line"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/move/", views.move, name="move"),
    path("rooms/", views.room_list, name="rooms"),
    path("rooms/new/", views.room_new, name="room_new"),
    path("rooms/<int:pk>/", views.room_stock, name="room"),
    path("rooms/<int:pk>/edit/", views.room_edit, name="room_edit"),
]
