from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from . import panels  # noqa: F401  (registers this app's panels on lower apps' pages)
