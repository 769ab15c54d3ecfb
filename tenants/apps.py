from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Companies"

    def ready(self):
        # Registers `migrate_schemas --executor=behind` (django-tenants finds executors by subclass).
        from . import migration_executor  # noqa: F401
        from .models import watch_writes

        watch_writes()
