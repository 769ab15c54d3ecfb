import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from reconciliation.services import refresh_intake_view
from tenants.models import Company


class Command(BaseCommand):
    help = (
        "Refresh the daily_grower_intake materialized view (intake per local day, grower, packhouse and fruit) "
        "CONCURRENTLY, so readers are never blocked: in every company's schema, or in one with --schema. "
        "Each refresh first copies the company's current time zone into the schema, so the local days follow "
        "it. The job worker also refreshes it, debounced, after intake and every 5 minutes; this command "
        "refreshes at once. Prints one line per company with the view's rows and the time taken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--schema", help="Only this company's schema, e.g. acme (default: every company, suspended ones too).",
        )

    def handle(self, *args, **opts):
        companies = self._companies(opts.get("schema"))
        verbose = opts["verbosity"] >= 1
        failed = []
        total_started = time.monotonic()
        for number, company in enumerate(companies, start=1):
            started = time.monotonic()
            try:
                with tenant_context(company):
                    rows = refresh_intake_view()
            except Exception as exc:  # one company's failure must not stop the others
                failed.append(company.schema_name)
                self.stderr.write(f"[{number}/{len(companies)}] {company.schema_name}: failed: {exc}")
                continue
            if verbose:
                self.stdout.write(
                    f"[{number}/{len(companies)}] {company.schema_name}: {rows} rows "
                    f"in {time.monotonic() - started:.2f} s"
                )
        if failed:
            raise CommandError(f"The refresh failed for {len(failed)} of {len(companies)}: {', '.join(failed)}.")
        if verbose:
            self.stdout.write(self.style.SUCCESS(
                f"Refreshed daily_grower_intake in {len(companies)} "
                f"compan{'y' if len(companies) == 1 else 'ies'} in {time.monotonic() - total_started:.2f} s."
            ))

    def _companies(self, schema):
        public = get_public_schema_name()
        with schema_context(public):
            companies = Company.objects.exclude(schema_name=public).order_by("schema_name")
            if schema is None:
                return list(companies)
            if schema == public:
                raise CommandError(f"'{schema}' is the platform's schema; it has no intake view. Name a company.")
            found = [c for c in companies if c.schema_name == schema]
            if not found:
                known = ", ".join(c.schema_name for c in companies) or "none"
                raise CommandError(f"No company has the schema '{schema}'. Companies: {known}.")
            return found
