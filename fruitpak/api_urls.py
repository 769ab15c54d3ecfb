"""Everything under /api/ on a company's host."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from accounts import api as auth_api
from batches.api.views import BatchViewSet
from growers.api.views import GrowerViewSet
from packhouses.api.views import PackhouseViewSet
from payments.api.views import GrowerPaymentViewSet, PriceAgreementViewSet
from reconciliation.api.views import DailyIntakeView, ReconciliationView

router = SimpleRouter()
router.register("growers", GrowerViewSet, basename="grower")
router.register("packhouses", PackhouseViewSet, basename="packhouse")
router.register("batches", BatchViewSet, basename="batch")
router.register("payments", GrowerPaymentViewSet, basename="payment")
router.register("prices", PriceAgreementViewSet, basename="price")


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def api_root(request):
    """Who is asking, for which company, and what the API offers."""
    names = ["grower", "packhouse", "batch", "payment", "price"]
    endpoints = {name: reverse(f"{name}-list", request=request) for name in names}
    endpoints.update(
        reconciliation=reverse("reconciliation", request=request),
        intake_daily=reverse("intake-daily", request=request),
    )
    return Response({
        "company": {"name": request.tenant.name, "schema": request.tenant.schema_name},
        "user": {"email": request.user.email, "role": request.user.role},
        "endpoints": endpoints,
        "docs": reverse("api-docs", request=request),
    })


urlpatterns = [
    path("", api_root, name="api-root"),
    path("auth/login", auth_api.login, name="api-login"),
    path("auth/refresh", auth_api.refresh, name="api-refresh"),
    path("auth/logout", auth_api.logout, name="api-logout"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its init script from a URL: no inline script, for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("reconciliation/", ReconciliationView.as_view(), name="reconciliation"),
    path("intake/daily/", DailyIntakeView.as_view(), name="intake-daily"),
    *router.urls,
]
