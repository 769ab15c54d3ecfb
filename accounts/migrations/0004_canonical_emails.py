"""Stored emails to their canonical form (accounts/emails.py), in each schema the migration runs in.

Two users whose emails have one canonical form would be one login, so the
migration stops and names them instead of choosing; merge or rename them by
hand, then migrate again.

The reverse is a no-op: the original spelling of each email is not kept, and the canonical
one logs in before and after.
"""

from django.db import migrations

from accounts.emails import canonical_email


def canonicalise(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    users = list(User.objects.using(schema_editor.connection.alias).only("id", "email").order_by("id"))
    owners = {}
    for user in users:
        try:
            canonical = canonical_email(user.email)
        except ValueError:
            canonical = user.email  # not an address at all; left for a person to look at
        owners.setdefault(canonical, []).append(user)
    clashes = {canonical: found for canonical, found in owners.items() if len(found) > 1}
    if clashes:
        lines = "; ".join(
            f"{canonical}: " + ", ".join(f"id {user.id} {user.email!r}" for user in found)
            for canonical, found in sorted(clashes.items())
        )
        raise RuntimeError(
            f"Users in schema {schema_editor.connection.schema_name!r} share a canonical email, "
            f"so they could not be told apart at login: {lines}. Rename or merge them, then migrate again."
        )
    for canonical, (user,) in owners.items():
        if user.email != canonical:
            User.objects.using(schema_editor.connection.alias).filter(id=user.id).update(email=canonical)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_knownaddress")]

    operations = [migrations.RunPython(canonicalise, migrations.RunPython.noop)]
