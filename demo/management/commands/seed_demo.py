from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from demo.seeder import (
    MAX_BATCHES,
    MAX_GROWERS,
    MAX_PACKHOUSES,
    MAX_PAYMENTS,
    SEASON_DAYS,
    Seeder,
    SeedError,
    SeedOptions,
    validate_options,
)
from tenants.models import Company


class Command(BaseCommand):
    help = (
        "Fill one company with a realistic season of demo data: packhouses (PH1..), growers (G0001..) "
        "with contacts, regions and GGNs (a few inactive), 2 to 4 farms per grower (G0001-F1.., with PUCs "
        "and GGNs) with 3 to 12 orchard blocks each (real cultivars), calendar-year seasons, spray "
        "clearances (a few blocks left without), a QC defect catalogue, price agreements for every fruit and "
        f"grade (some per variety, with one mid-season price change), about {SEASON_DAYS} days of "
        "batches up to today in the company's time zone, from those blocks, with their history, pack-outs, "
        "scanned bins on some and QC inspections on a tenth, cold-store rooms, pallets (SSCCs from the "
        "company's counter; a GS1 prefix is made up when the company has none) holding the pack-out of the "
        "packed and dispatched batches, some mixed, dispatched ones on dispatched loads, and grower "
        "payments (advances, finals, a few deductions; some growers under-paid, some over-paid), and pools per "
        "fruit and programme variety with charge rules and advances (past seasons' pools with market income, "
        "closed). "
        "Batches, history, bins and inspections are bulk-loaded with COPY. Safe to run again: a company that "
        "already has "
        "the requested number of batches gets nothing new; one with fewer gets only the missing batches "
        "(and payments for them); packhouses, growers, farms and blocks, seasons, clearances, defect types "
        "and prices are made only when missing. "
        "Never run it against a production company."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--schema", default="demo",
            help="Schema of the company to fill, e.g. acme (default: demo). The company must exist.",
        )
        parser.add_argument(
            "--batches", type=int, default=20_000,
            help=f"Total batches the company should have (default: 20000, up to {MAX_BATCHES}). "
            "Only the missing number is added.",
        )
        parser.add_argument(
            "--growers", type=int, default=120,
            help=f"Growers G0001.. to deliver the fruit (default: 120, 1 to {MAX_GROWERS}); missing ones are made.",
        )
        parser.add_argument(
            "--packhouses", type=int, default=3,
            help=f"Packhouses PH1.. to receive it (default: 3, 1 to {MAX_PACKHOUSES}); missing ones are made.",
        )
        parser.add_argument(
            "--payments", type=int, default=None,
            help="Payments to record for the fruit this run adds (default: about two per grower per month "
            f"of deliveries: an advance and a final, plus a few deductions; 0 to {MAX_PAYMENTS}). An advance per "
            "grower and pool against the seeded pools comes on top, and the plan pays the rest of the fruit's value.",
        )
        parser.add_argument(
            "--only", choices=["pools"], default=None,
            help="Seed only this part on a company seeded before: 'pools' adds the seasons' pools (per fruit and "
            "per programme variety) with charge rules on all five bases and advances, and for past seasons "
            "market income per grade and the close, without touching batches (the other count options are "
            "ignored).",
        )
        parser.add_argument(
            "--seed", type=int, default=None,
            help="Seed for the random generator, for repeatable data (default: different every run).",
        )

    def handle(self, *args, **opts):
        options = SeedOptions(
            schema=opts["schema"], batches=opts["batches"], growers=opts["growers"],
            packhouses=opts["packhouses"], payments=opts["payments"], seed=opts["seed"],
        )
        problems = validate_options(options)
        if problems:
            raise CommandError(" ".join(problems))
        company = self._company(options.schema)

        verbosity = opts["verbosity"]
        say = self.stdout.write if verbosity >= 1 else (lambda line: None)
        say(f"Seeding {company.name} (schema {company.schema_name}, time zone {company.time_zone})...")
        with tenant_context(company):
            try:
                seeder = Seeder(company, options, out=say, verbosity=verbosity)
                report = seeder.run_pools() if opts["only"] == "pools" else seeder.run()
            except SeedError as exc:
                raise CommandError(str(exc)) from None

        if opts["only"] == "pools":
            say(self.style.SUCCESS(
                f"Done in {report.seconds:.1f} s. Added {report.pools_created} pools ({report.pools_closed} closed), "
                f"{report.charge_rules_created} charge rules, {report.pool_income_created} income entries and "
                f"{report.pool_advances_created} advances against pools."))
            return
        if report.batches_created == 0 and report.batches_before >= options.batches:
            say(f"{company.schema_name} already has {report.batches_before} batches "
                f"(asked for {options.batches}): no batches or payments added.")
        paid = ", ".join(f"{count} {kind}" for kind, count in sorted(report.payments_by_type.items())) or "none"
        say(self.style.SUCCESS(
            f"Done in {report.seconds:.1f} s. Added {report.packhouses_created} packhouses, "
            f"{report.growers_created} growers, {report.prices_created} price agreements, "
            f"{report.batches_created} batches ({report.history_created} history rows) and "
            f"{report.payments_created} payments; {report.rooms_created} rooms, {report.pallets_created} pallets "
            f"({report.pallet_lines_created} lines) and {report.loads_created} loads; {report.pools_created} pools "
            f"({report.pools_closed} closed)."
        ))
        say(f"{company.schema_name} now has {report.packhouses_total} packhouses, {report.growers_total} growers, "
            f"{report.prices_total} price agreements, {report.batches_total} batches; payments: {paid}.")

    def _company(self, schema):
        if schema == get_public_schema_name():
            raise CommandError(f"'{schema}' is the platform's schema, not a company; name a company's schema.")
        with schema_context(get_public_schema_name()):
            company = Company.objects.filter(schema_name=schema).first()
            if company is None:
                known = ", ".join(Company.objects.exclude(schema_name=get_public_schema_name())
                                  .order_by("schema_name").values_list("schema_name", flat=True)) or "none"
                raise CommandError(f"No company has the schema '{schema}'. Companies: {known}.")
        return company
