from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"

    def ready(self):
        from . import panels  # noqa: F401  (registers this app's panels on lower apps' pages)
