"""The three roles of a company, as Django groups with model permissions.

A role grants actions per app ("batches") or per model ("payments.growerpayment";
a model's entry beats its app's). Per app, so that when a domain app gains a
model its permissions reach the roles at the next migrate: the post_migrate
handler below runs for every app in every schema.
"""

from django.db import connection

CLERK = "Clerk"
FINANCE = "Finance"
MANAGER = "Manager"
ROLES = (MANAGER, FINANCE, CLERK)  # strongest first: a user's role is the first they hold

ALL = frozenset({"view", "add", "change", "delete"})
DOMAIN_APPS = ("seasons", "packhouses", "growers", "batches", "pallets", "dispatch", "pools", "payments", "onboarding",
               "reconciliation")

ROLE_GRANTS = {
    CLERK: {
        # Every role that reads batches reads the seasons they are filtered by; only managers add or change them.
        "seasons": {"view"},
        "packhouses": {"view"},
        "growers": {"view"},
        "batches": {"view", "add", "change"},
        # Clerks inspect samples against the catalogue; managers keep it (docs/decisions.md, "QC").
        "batches.defecttype": {"view"},
        # The usual net kg per bin is the company's rule, set by its managers (docs/DATA_ENTRY.md).
        "batches.binweightrange": {"view"},
        # Build, fill, close and move pallets; rooms are the manager's, reopening too.
        "pallets": {"view", "add", "change"},
        "pallets.room": {"view"},
        # Create loads, put pallets on them and dispatch them.
        "dispatch": {"view", "add", "change"},
    },
    FINANCE: {
        "seasons": {"view"},
        "packhouses": {"view"},
        "growers": {"view"},
        "batches": {"view"},
        "pallets": {"view"},
        "dispatch": {"view"},
        "payments": {"view", "add"},
        # Pools: create, record income, set charges, close (change); deleting a charge of an open pool.
        "pools": {"view", "add", "change"},
        "pools.chargerule": {"view", "add", "delete"},
        "payments.priceagreement": {"view", "add", "change"},
        # Prepare (add), approve, post, cancel and decide (change) payment runs; never approve one's own.
        "payments.paymentrun": {"view", "add", "change"},
        # Imports of price agreements only: an import kind also needs the permissions on what it writes.
        "onboarding": {"view", "add"},
        "reconciliation": {"view"},
    },
    MANAGER: {
        **{app: ALL for app in DOMAIN_APPS},
        "pallets.pallet": ALL | {"reopen"},
        # Corrections of weights, bins, block and harvest date (batches.services.correct_batch) are the manager's.
        "batches.batch": ALL | {"correct"},
        "accounts": {"view", "add", "change"},
        "auth": {"view"},
    },
}


def role_of(user):
    """The name of the user's strongest role, or None."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return "Administrator"
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), None)


def sync_role_permissions(sender, app_config=None, using="default", **kwargs):
    """post_migrate: give each role its permissions on the app just migrated.

    Runs in tenant schemas only; the public schema has platform staff, not roles.
    """
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes
    from django_tenants.utils import get_public_schema_name

    if app_config is None or getattr(connection, "schema_name", None) == get_public_schema_name():
        return
    # Receivers run in app order, and ours may come before auth's: make sure
    # this app's permissions exist (both calls are idempotent).
    create_contenttypes(app_config, verbosity=0, using=using)
    create_permissions(app_config, verbosity=0, using=using)
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        grants = ROLE_GRANTS[role]
        wanted = [
            perm for perm in Permission.objects.using(using).filter(
                content_type__app_label=app_config.label
            ).select_related("content_type")
            if perm.codename.split("_", 1)[0] in grants.get(
                f"{app_config.label}.{perm.content_type.model}", grants.get(app_config.label, ())
            )
        ]
        if wanted:
            group.permissions.add(*wanted)
