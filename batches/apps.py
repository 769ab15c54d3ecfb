from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"

    def ready(self):
        from . import panels  # noqa: F401  (registers this app's panels on lower apps' pages)
