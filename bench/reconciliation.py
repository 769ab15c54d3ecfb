"""Benchmark: the reconciliation report and the daily_grower_intake refresh on a big company.

Not a test: it times, prints a table and writes JSON (bench/results/reconciliation.json).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fruitpak_bench \\
        .venv/bin/python bench/reconciliation.py --schema bench --batches 1000000

It migrates the database, makes the company `--schema` when it is missing
(create_company) and fills it with `manage.py seed_demo` up to `--batches`
(a second run reuses what is there and adds nothing). Then, in the
company's schema, it times with warm caches (the first run is reported
apart, as "cold"):

- the report for a season (the 365 days up to today: what seed_demo makes),
  for one month, and for a season and one grower;
- one grower's statement for the season;
- REFRESH MATERIALIZED VIEW CONCURRENTLY daily_grower_intake;
- a 30-day read of the view (what the dashboard's chart needs);

and keeps EXPLAIN (ANALYZE, BUFFERS) of the season's report in the JSON.
The goal for the season's report at 1,000,000 batches is under 1 s.
"""

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import harness  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "reconciliation.json"


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fruitpak.settings.dev")
    import django

    django.setup()


def timed(function, repeat):
    """(first run's seconds, [the next `repeat` runs' seconds], the last result)."""
    started = time.perf_counter()
    result = function()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        warm.append(time.perf_counter() - started)
    return cold, warm, result


def ensure_company(schema, batches, growers, seed):
    from django.core.management import call_command

    from tenants.models import Company

    harness.ensure_company(
        schema, name=f"Bench {schema}", domain=f"{schema}.bench.localhost",
        admin_email=f"manager@{schema}.bench.localhost", admin_password=secrets.token_urlsafe(16),
    )
    if batches:
        call_command("seed_demo", schema=schema, batches=batches, growers=growers, seed=seed, verbosity=1)
    return Company.objects.get(schema_name=schema)


def run(company, repeat):
    from django.db import connection
    from django.db.models import Sum
    from django_tenants.utils import tenant_context

    from batches.models import Batch
    from reconciliation.models import DailyGrowerIntake
    from reconciliation.report import default_period, grower_statement, reconcile
    from reconciliation.services import refresh_intake_view
    from reconciliation.tests.helpers import explain

    results = []

    def add(name, cold, warm, rows):
        results.append({
            "name": name, "cold_s": round(cold, 4), "median_s": round(statistics.median(warm), 4),
            "min_s": round(min(warm), 4), "max_s": round(max(warm), 4), "runs": len(warm), "rows": rows,
        })
        print(f"  {name}: cold {cold:.3f} s, median {statistics.median(warm):.3f} s ({rows} rows)", flush=True)

    with tenant_context(company):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE batches")
            cursor.execute("ANALYZE grower_payments")
            cursor.execute("ANALYZE batch_day_totals")
        season = default_period()
        month = (season[1] - timedelta(days=29), season[1])
        batches_total = Batch.objects.count()
        season_batches = Batch.objects.filter(
            intake_date__gte=datetime.combine(season[0], datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
        ).count()
        print(f"{company.schema_name}: {batches_total} batches, about {season_batches} in the season "
              f"{season[0]}..{season[1]}. Timing:", flush=True)

        cold, warm, report = timed(lambda: reconcile(*season), repeat)
        add("reconcile: season, all growers (one page of 50)", cold, warm, report.totals.growers)
        cold, warm, full = timed(lambda: reconcile(*season, limit=None), repeat)
        add("reconcile: season, every row (CSV)", cold, warm, len(full.rows))
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            (jit,) = cursor.fetchone()
        if jit == "on":
            # The season's plan costs enough to be JIT-compiled (~0.3-0.4 s here); how it runs without.
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")
            cold, warm, report = timed(lambda: reconcile(*season), repeat)
            add("reconcile: season, all growers, with jit = off", cold, warm, report.totals.growers)
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")
        cold, warm, report = timed(lambda: reconcile(*month), repeat)
        add("reconcile: last 30 days", cold, warm, report.totals.growers)
        busiest = max(full.rows, key=lambda row: row.batches)
        cold, warm, report = timed(lambda: reconcile(*season, grower=busiest.grower_id), repeat)
        add(f"reconcile: season, one grower ({busiest.grower_code})", cold, warm, len(report.rows))

        from growers.models import Grower

        grower = Grower.objects.get(pk=busiest.grower_id)
        cold, warm, statement = timed(lambda: grower_statement(grower, *season), repeat)
        add(f"grower statement: season ({busiest.grower_code})", cold, warm, len(statement.batches))

        cold, warm, rows = timed(refresh_intake_view, max(1, min(repeat, 3)))
        add("REFRESH MATERIALIZED VIEW CONCURRENTLY daily_grower_intake", cold, warm, rows)
        cold, warm, chart = timed(
            lambda: list(DailyGrowerIntake.objects.filter(day__gte=month[0]).values("day").order_by("day")
                         .annotate(kg=Sum("net_kg"))),
            repeat,
        )
        add("daily_grower_intake: 30 days by day (dashboard chart)", cold, warm, len(chart))

        plan = explain(*season, analyze=True)
        server = {}
        with connection.cursor() as cursor:
            for name in ("server_version", "jit", "work_mem", "max_parallel_workers_per_gather", "shared_buffers"):
                cursor.execute(f"SHOW {name}")
                (server[name],) = cursor.fetchone()
    return {
        "schema": company.schema_name, "batches": batches_total, "season": [str(season[0]), str(season[1])],
        "season_batches_approx": season_batches, "growers_in_report": len(full.rows),
        "postgresql": server.pop("server_version"), "settings": server,
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "machine": platform.machine(), "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "timings": results, "explain_analyze_season": plan,
    }


def print_table(summary):
    print()
    print(f"Reconciliation benchmark: {summary['batches']:,} batches in '{summary['schema']}', "
          f"PostgreSQL {summary['postgresql']}, {summary['cpus']} CPUs")
    header = f"{'what':<62} {'cold s':>8} {'median s':>9} {'min s':>8} {'max s':>8} {'rows':>7}"
    print(header)
    print("-" * len(header))
    for t in summary["timings"]:
        print(f"{t['name']:<62} {t['cold_s']:>8.3f} {t['median_s']:>9.3f} {t['min_s']:>8.3f} "
              f"{t['max_s']:>8.3f} {t['rows']:>7}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schema", default="bench", help="The company to use or make (default: bench).")
    parser.add_argument("--batches", type=int, default=1_000_000,
                        help="Batches the company should have; seed_demo adds the missing ones (default: 1000000; "
                             "0 uses the company as it is).")
    parser.add_argument("--growers", type=int, default=120, help="Growers for seed_demo (default: 120).")
    parser.add_argument("--seed", type=int, default=2026, help="seed_demo's random seed (default: 2026).")
    parser.add_argument("--repeat", type=int, default=5, help="Warm runs per measurement (default: 5).")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"Where to write the results (default: {RESULTS}).")
    args = parser.parse_args(argv)

    setup_django()
    company = ensure_company(args.schema, args.batches, args.growers, args.seed)
    summary = run(company, args.repeat)
    print_table(summary)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nWrote {args.json}")


if __name__ == "__main__":
    main()
