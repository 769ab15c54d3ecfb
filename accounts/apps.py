from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self):
        from . import grants
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")
        grants.watch_writes()
