"""Unlock a user's login from the command line, for when no manager of the company can log in."""

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context, schema_exists

from accounts import services
from accounts.emails import canonical_or_raw
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Forget every failed login counted against one user's account (django-axes), in one company's "
        "schema, so that they can log in again at once. Failures counted against an address stay. "
        "Logged as a login.unlocked audit event."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="The company's schema name (public for platform staff).")
        parser.add_argument("--email", required=True, help="The user's email address, in any spelling.")

    def handle(self, *args, schema, email, **options):
        if not schema_exists(schema):
            raise CommandError(f"No schema {schema!r}.")
        with schema_context(schema):
            user = User.objects.filter(email=canonical_or_raw(email)).first()
            if user is None:
                raise CommandError(f"No user {email!r} in schema {schema!r}.")
            removed = services.unlock_login(user, via="manage.py unlock_user")
        self.stdout.write(f"Unlocked {user.email} in {schema}: {removed} failed-login record(s) forgotten.")
