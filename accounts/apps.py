from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self):
        from .grants import watch_auth_writes
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")

        # Every connection, so that no write to users, sessions or permissions escapes it (accounts/grants.py).
        # First in the list, so that a `with connection.execute_wrapper(...)` open while a connection is made
        # still pops its own wrapper, not this one.
        def install_watch(sender, connection, **kwargs):
            if watch_auth_writes not in connection.execute_wrappers:
                connection.execute_wrappers.insert(0, watch_auth_writes)

        connection_created.connect(install_watch, weak=False, dispatch_uid="accounts.watch_auth_writes")
