"""URLs of the public host: the platform admin only."""

from django.urls import path
from django.views.generic import RedirectView

from accounts.lockout import login_rate_limited
from tenants.admin import platform_admin

urlpatterns = [
    path("admin/login/", login_rate_limited(platform_admin.login)),
    path("admin/", platform_admin.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
