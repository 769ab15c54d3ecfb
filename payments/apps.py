from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from core import warmers

        from . import panels  # noqa: F401  (registers this app's panels on lower apps' pages)

        # The price list's first page as clients ask for it (manage.py warm_cache).
        warmers.register_page("/api/prices/", "payments.view_priceagreement")
