from django.apps import AppConfig


class PalletsConfig(AppConfig):
    name = "pallets"

    def ready(self):
        from . import panels, signals  # noqa: F401  (the batch page's pallets panel; the pack-out guard)
