from django.core.management.base import BaseCommand, CommandError

from tenants.backup import BackupError, restore_company


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_company as a NEW company: a new schema and a new domain, so the "
        "company the backup came from is never touched. Its users, data and history come along; the time zone "
        "is the backed-up company's. Needs the CREATEDB privilege (the schema is renamed in a scratch database). "
        "Bad input (missing file, taken schema or domain, bad name) is refused before anything is created, and a "
        "failure part-way leaves nothing behind. Exit code 1 on any error."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A backup written by backup_company.")
        parser.add_argument("--schema", required=True, help="The new schema name, e.g. acme_restored.")
        parser.add_argument("--domain", required=True, help="The new hostname, e.g. acme-old.fruitpak.example.")
        parser.add_argument("--name", required=True, help='The new company\'s name, e.g. "Acme Fruit (restored)".')
        parser.add_argument("--currency", help="ISO 4217 code. Default: DEFAULT_CURRENCY.")

    def handle(self, *args, **opts):
        try:
            restore_company(
                opts["file"], schema=opts["schema"], domain=opts["domain"], name=opts["name"],
                currency=opts["currency"], progress=self.stdout.write,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
