from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"

    def ready(self):
        # batches sits below reconciliation and never imports it; it announces intake, we react.
        from batches.signals import intake_changed

        from . import panels  # noqa: F401  (registers this app's panels on lower apps' pages)
        from .tasks import refresh_soon

        intake_changed.connect(refresh_soon, dispatch_uid="reconciliation.refresh_soon")

        from core import warmers

        from .dashboard import dashboard_data

        warmers.register_data("dashboard", dashboard_data)
