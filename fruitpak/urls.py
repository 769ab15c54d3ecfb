"""URLs of a company's host (tenant schema)."""

from django.contrib import admin
from django.urls import include, path

from accounts.lockout import login_rate_limited
from reconciliation.views import dashboard

admin.site.site_header = "FruitPAK company admin"
admin.site.site_title = "FruitPAK admin"

urlpatterns = [
    path("admin/login/", login_rate_limited(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/", include("fruitpak.api_urls")),
    path("batches/", include("batches.urls")),
    path("growers/", include("growers.urls")),
    path("loads/", include("dispatch.urls")),
    path("packhouses/", include("packhouses.urls")),
    path("pallets/", include("pallets.urls")),
    path("payments/", include("payments.urls")),
    path("pools/", include("pools.urls")),
    path("imports/", include("onboarding.urls")),
    path("reconciliation/", include("reconciliation.urls")),
    path("company/settings/", include("tenants.urls")),
    path("seasons/", include("seasons.urls")),
    path("trace/", include("dispatch.trace_urls")),
    path("", dashboard, name="home"),
    path("", include("accounts.urls")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
