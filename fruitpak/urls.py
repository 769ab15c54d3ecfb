"""URLs of a company's host (tenant schema)."""

from django.contrib import admin
from django.urls import include, path

from .api import api_root

admin.site.site_header = "FruitPAK company admin"
admin.site.site_title = "FruitPAK admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api_root, name="api-root"),
    path("", include("accounts.urls")),
]
