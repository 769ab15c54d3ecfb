"""Everything under /api/ on a company's host."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts import api as auth_api
from batches.api.qc import BatchInspectionsView, DefectTypeViewSet, QCInspectionViewSet, QCReportView
from batches.api.views import BatchViewSet
from core.views import api_not_found
from dispatch.api.views import LoadViewSet, TraceCsvView, TraceView
from growers.api.views import BlockViewSet, FarmViewSet, GrowerViewSet, SprayClearanceViewSet
from packhouses.api.views import PackhouseViewSet
from pallets.api.views import PalletViewSet, RoomViewSet
from payments.api.views import GrowerPaymentViewSet, PaymentRunViewSet, PriceAgreementViewSet, RemittanceAdviceViewSet
from pools.api.views import ChargeRuleViewSet, PoolIncomeViewSet, PoolViewSet
from reconciliation.api.views import DailyIntakeView, ReconciliationView
from seasons.api.views import SeasonViewSet

router = SimpleRouter()
router.register("growers", GrowerViewSet, basename="grower")
router.register("farms", FarmViewSet, basename="farm")
router.register("blocks", BlockViewSet, basename="block")
router.register("spray-clearances", SprayClearanceViewSet, basename="spray-clearance")
router.register("packhouses", PackhouseViewSet, basename="packhouse")
router.register("batches", BatchViewSet, basename="batch")
router.register("pallets", PalletViewSet, basename="pallet")
router.register("rooms", RoomViewSet, basename="room")
router.register("loads", LoadViewSet, basename="load")
router.register("payments", GrowerPaymentViewSet, basename="payment")
router.register("pools", PoolViewSet, basename="pool")
router.register("pool-income", PoolIncomeViewSet, basename="pool-income")
router.register("charge-rules", ChargeRuleViewSet, basename="charge-rule")
router.register("prices", PriceAgreementViewSet, basename="price")
router.register("payment-runs", PaymentRunViewSet, basename="payment-run")
router.register("remittances", RemittanceAdviceViewSet, basename="remittance")
router.register("defect-types", DefectTypeViewSet, basename="defect-type")
router.register("qc-inspections", QCInspectionViewSet, basename="qc-inspection")
router.register("seasons", SeasonViewSet, basename="season")


urlpatterns = [
    path("", auth_api.api_root, name="api-root"),
    path("auth/login", auth_api.login, name="api-login"),
    path("auth/refresh", auth_api.refresh, name="api-refresh"),
    path("auth/logout", auth_api.logout, name="api-logout"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its init script from a URL: no inline script, for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("reconciliation/", ReconciliationView.as_view(), name="reconciliation"),
    path("intake/daily/", DailyIntakeView.as_view(), name="intake-daily"),
    path("batches/<int:pk>/inspections/", BatchInspectionsView.as_view(), name="batch-inspections"),
    path("qc-report/", QCReportView.as_view(), name="qc-report"),
    path("trace/", TraceView.as_view(), name="trace"),
    path("trace/csv/", TraceCsvView.as_view(), name="trace-csv"),
    *router.urls,
    # Last: whatever else is under /api/ is a JSON 404 (see api_not_found).
    re_path(r"^(?P<rest>.*)$", api_not_found, name="api-not-found"),
]
