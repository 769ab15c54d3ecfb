from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context, tenant_context

from accounts import services as account_services
from accounts.models import User
from accounts.roles import CLERK, FINANCE, MANAGER
from demo.pallets import ensure_gs1_prefix
from tenants.models import Company
from tenants.services import NewCompany, create_company, ensure_public_tenant

DEMO_PASSWORD = "fruitpak-demo"
DEMO_USERS = [
    ("clerk@demo.localhost", CLERK, "Cara Clerk"),
    ("finance@demo.localhost", FINANCE, "Fin Ancer"),
    ("manager@demo.localhost", MANAGER, "Mandla Manager"),
]
PLATFORM_ADMIN = "admin@fruitpak.localhost"
DEMO_BATCHES = 20_000
DEMO_SEED = 2026  # the same demo data on every machine


class Command(BaseCommand):
    help = (
        "Make the local demo: the public host with a platform admin, and the company "
        "'demo' at demo.localhost with one user for each role, filled with a season of demo data "
        "(manage.py seed_demo). Safe to run again: it creates what is missing and resets the demo "
        "passwords. Never run it in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000", help="Port shown in the printed links.")
        parser.add_argument(
            "--batches", type=int, default=DEMO_BATCHES,
            help=f"Batches the demo company should have (default: {DEMO_BATCHES}; 0 leaves it empty). "
            "Only the missing ones are added, so a second run adds nothing.",
        )

    def handle(self, *args, **opts):
        ensure_public_tenant(settings.PUBLIC_DOMAIN)
        with schema_context("public"):
            admin = User.objects.filter(email=PLATFORM_ADMIN).first()
            if admin is None:
                User.objects.create_superuser(PLATFORM_ADMIN, DEMO_PASSWORD, full_name="Platform Admin")

        demo = Company.objects.filter(schema_name="demo").first()
        if demo is None:
            self.stdout.write("Creating the demo company (migrating its schema)...")
            demo = create_company(NewCompany(
                schema="demo", name="Demo Packhouse Co", domain="demo.localhost",
                admin_email=DEMO_USERS[-1][0], admin_password=DEMO_PASSWORD,
            ))
        # Pallets need a GS1 company prefix; the demo's is made up (demo.pallets.demo_prefix).
        ensure_gs1_prefix(demo)
        with tenant_context(demo):
            for email, role, full_name in DEMO_USERS:
                account_services.ensure_user(email=email, password=DEMO_PASSWORD, role=role, full_name=full_name)
        if opts["batches"]:
            call_command(
                "seed_demo", "--schema", "demo", "--batches", str(opts["batches"]), "--seed", str(DEMO_SEED),
                verbosity=opts["verbosity"], stdout=self.stdout, stderr=self.stderr,
            )
            call_command("refresh_intake_view", "--schema", "demo", stdout=self.stdout, stderr=self.stderr)

        port = opts["port"]
        self.stdout.write(self.style.SUCCESS("\nFruitPAK demo is ready."))
        self.stdout.write(f"  Company:  http://demo.localhost:{port}/")
        for email, role, _ in DEMO_USERS:
            self.stdout.write(f"    {role:<8} {email:<26} password: {DEMO_PASSWORD}")
        self.stdout.write(f"  Platform admin: http://{settings.PUBLIC_DOMAIN}:{port}/admin/")
        self.stdout.write(f"    {PLATFORM_ADMIN}  password: {DEMO_PASSWORD}\n")
