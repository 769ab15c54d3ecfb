"""manage.py warm_cache: fill every active company's cached lists and dashboard (tenants/warming.py)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tenants import warming


class Command(BaseCommand):
    help = (
        "Fill the cache of every active company: the API list pages registered in core.warmers (growers, "
        "packhouses, prices), as one user of each role would get them, and the dashboard's numbers. Run it "
        "after a deploy or a Redis restart, so no customer's first request pays for a cold cache; "
        "--defer queues it as a job instead (tenants.tasks.warm_cache)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", action="append", dest="schemas", metavar="SCHEMA",
                            help="Only this company (repeat for several). Default: every active company.")
        parser.add_argument("--defer", action="store_true",
                            help="Queue the job for the job worker and return at once.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (e.g. in a log).")

    def handle(self, *args, schemas=None, defer=False, no_progress=False, **options):
        if defer:
            from tenants.tasks import warm_cache

            job = warm_cache.defer(schemas=schemas or [])
            self.stdout.write(f"warm_cache queued as job {job}")
            return

        def progress(companies):
            return tqdm(companies, unit="company", file=sys.stderr, disable=no_progress or options["verbosity"] == 0)

        result = warming.warm(schemas, progress=progress)
        if schemas and result.companies + len(result.failures) == 0:
            raise CommandError(f"No active company with schema {', '.join(schemas)}.")
        self.stdout.write(
            f"Warmed {result.companies} companies: {result.pages} list pages and {result.data} dashboards "
            f"in {result.seconds:.1f} s."
        )
        for failure in result.failures:
            self.stderr.write(f"  not warmed: {failure}")
        if result.failures:
            raise CommandError(f"{len(result.failures)} pages or companies were not warmed (above).")
