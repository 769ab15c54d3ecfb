import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import NewCompany, create_company


class Command(BaseCommand):
    help = (
        "Create a packing company: its PostgreSQL schema (migrated), its domain, "
        "the Clerk, Finance and Manager roles, and its first manager. "
        "Bad input is refused before anything is created, and a failure part-way "
        "leaves nothing behind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="Schema name, e.g. acme (lower-case letters, digits, _).")
        parser.add_argument("--name", required=True, help='Company name, e.g. "Acme Fruit".')
        parser.add_argument("--domain", required=True, help="Hostname that serves it, e.g. acme.fruitpak.example.")
        parser.add_argument("--admin-email", required=True, help="Email of the first manager.")
        parser.add_argument(
            "--admin-password",
            help="Password of the first manager: at least 10 characters, not a common one. "
            "To keep it out of the process list, set FRUITPAK_ADMIN_PASSWORD instead.",
        )
        parser.add_argument("--currency", help="ISO 4217 code, e.g. ZAR. Default: DEFAULT_CURRENCY.")
        parser.add_argument("--time-zone", help="IANA time zone, e.g. Africa/Johannesburg. Default: DEFAULT_TIME_ZONE.")

    def handle(self, *args, **opts):
        extra = {k: opts[k] for k in ("currency", "time_zone") if opts.get(k)}
        new = NewCompany(
            schema=opts["schema"], name=opts["name"], domain=opts["domain"],
            admin_email=opts["admin_email"],
            admin_password=opts["admin_password"] or os.environ.get("FRUITPAK_ADMIN_PASSWORD", ""),
            **extra,
        )
        self.stdout.write(f"Creating {new.name} in schema {new.schema} (migrating it takes a few seconds)...")
        try:
            company = create_company(new, verbosity=max(0, opts["verbosity"] - 1))
        except ValidationError as exc:
            raise CommandError(describe(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Created {company.name}: http://{new.domain.lower()}/ , first manager {new.admin_email}."
        ))


def describe(error: ValidationError) -> str:
    """One line per refused field."""
    if hasattr(error, "message_dict"):
        return "\n".join(
            f"--{field.replace('_', '-')}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
