from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate, pre_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self):
        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")
        watch_grants()
        # Django's own receiver, under its own dispatch_uid, so that whichever app is ready first, ours stays.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(note_login_address, dispatch_uid="accounts.note_login_address")

        from axes.models import AccessAttempt

        from .lockout import drop_request_data

        pre_save.connect(drop_request_data, sender=AccessAttempt, dispatch_uid="accounts.drop_axes_request_data")


def watch_grants():
    """The tables TenantJWTAuthentication's answer reads: a write to any of them retires grants (core.fastpath)."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from core.fastpath import grants

    from .models import ApiSession, User

    grants.watch(
        sessions=[ApiSession._meta.db_table],
        users=[User._meta.db_table, User.groups.through._meta.db_table, User.user_permissions.through._meta.db_table],
        company=[Group._meta.db_table, Group.permissions.through._meta.db_table, Permission._meta.db_table,
                 ContentType._meta.db_table],
        # A login inserts a session, and a new user has no grant: neither takes anything away from one.
        harmless_inserts=[User._meta.db_table, ApiSession._meta.db_table],
    )


def update_last_login(sender, user, **kwargs):
    """Django's last_login update on a browser login, retiring only this user's grants (not the company's)."""
    from django.contrib.auth import models

    from core.fastpath.grants import retiring

    with retiring(user_id=user.pk):
        models.update_last_login(sender, user, **kwargs)


def note_login_address(sender, request, user, **kwargs):
    """A browser login's address, for the lockout's known addresses (the API login notes its own)."""
    from core.clients import client_ip_address

    from . import services

    if request is not None:
        services.note_login_address(user, client_ip_address(request))
