from django.core.management.base import BaseCommand, CommandError

from tenants.backup import BackupError, backup_company


class Command(BaseCommand):
    help = (
        "Back up one company: pg_dump -Fc of its PostgreSQL schema (tables, data, sequences, triggers, the "
        "intake view) to FILE. Restore it as a new company with restore_company. The company's row and domains "
        "(public schema) are not in the file. Exit code 1 on any error; an existing FILE is never overwritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="The company's schema name, e.g. acme.")
        parser.add_argument("file", help="Where to write the backup, e.g. /backups/acme-2026-11-27.dump.")

    def handle(self, *args, **opts):
        try:
            backup_company(opts["schema"], opts["file"], progress=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
