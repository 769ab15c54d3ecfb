"""Benchmark: closing a big pool as the queued job does, settling it, and the season's reconciliation after.

Not a test: it times, prints a table and writes JSON (bench/results/pools.json).

    make bench-pools                      # or:
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fruitpak_bench .venv/bin/python bench/pools.py

It uses the 1,000,000-batch company that `make bench` seeds (schema `bench` in the database fruitpak_bench,
BENCH_DATABASE_URL to change it), and gives it pools first when it has none (`seed_demo --only pools`: past
seasons' pools closed with their income, the current season's open). Then it takes the current season's open
pool whose batch count is nearest to --batches (100,000), and, --repeat times, in a transaction that it rolls
back at the end (so the company is unchanged and the next run measures the same thing):

- the request: pools.services.queue_close (what the Close button and POST /api/pools/{id}/close/ run);
- the job: pools.services.run_closing (what the worker runs for pools.tasks.close_pool), with the time each
  step of pools.closing.STEPS started, as the page would see them;
- settle() on the closed pool, then preparing its payment run (payments.services.prepare_run: settle() and a
  line per grower, what the pool page's "Prepare payment run" does), then the run page's validation
  (payments.services.validation_issues, which settles again to compare);
- the season's reconciliation report (reconciliation.report.reconcile, the page's first 50 rows), with the pool
  closed.

Then the pool page's figures (pools.summary.pool_summary) computed and from the cache, and a pool of every grower
of the company (every_grower_pool: its membership rule replaced in the close, since no seeded pool has them all;
--no-every-grower skips it), closed and its run prepared, rolled back.

The queue's own latency (the worker noticing the job: LISTEN/NOTIFY, or its polling interval) is not in these
figures: the job is run in this process so that it can be rolled back. The goals: request + job + prepare_run
under 30 s; the season's reconciliation under 1 s. The exit status is 1 when a goal is missed.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, same_server  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "pools.json"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or same_server(
    os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/fruitpak"), "fruitpak_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or same_server(
    os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "7")
CLOSE_AND_PREPARE_GOAL_S = 30.0
RECONCILE_GOAL_S = 1.0


class Rollback(Exception):
    """Raised to leave the timed transaction without committing what it did."""


def setup_django():
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = DATABASE_URL, REDIS_URL
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fruitpak.settings.dev")
    import django

    django.setup()


def ensure_pools(company):
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from pools.models import Pool

    with tenant_context(company):
        if Pool.objects.exists():
            return
    call_command("seed_demo", schema=company.schema_name, only="pools", seed=2026, verbosity=1)


def pick_pool(target):
    """The current season's open pool whose batch count is nearest `target`: (pool, batches, growers)."""
    from django.db.models import Count

    from core.tenancy import company_today
    from pools.membership import member_batches
    from pools.models import Pool, PoolStatus

    today = company_today()
    candidates = []
    for pool in Pool.objects.filter(status=PoolStatus.OPEN, season__start_date__lte=today,
                                    season__end_date__gte=today):
        shape = member_batches(pool).aggregate(batches=Count("id"), growers=Count("grower_id", distinct=True))
        candidates.append((abs(shape["batches"] - target), pool, shape["batches"], shape["growers"]))
        print(f"  {pool.code}: {shape['batches']} batches, {shape['growers']} growers", flush=True)
    if not candidates:
        raise SystemExit("No open pool in the current season: run seed_demo --only pools first.")
    _, pool, batches, growers = min(candidates, key=lambda c: c[0])
    return pool, batches, growers


def close_and_settle(pool, user):
    """One round, rolled back: seconds for the request, the job (and its steps), settle() and reconcile()."""
    from django.db import transaction

    from payments.services import prepare_run, validation_issues
    from pools import services
    from pools.settlement import settle
    from reconciliation.report import default_period, reconcile

    timing = {}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            closing = services.queue_close(pool, by=user)
            timing["request_s"] = time.perf_counter() - started

            steps = {}
            report_step = services.closing_progress.StepReporter.__call__

            def timed_step(reporter, step):
                steps[step] = time.perf_counter()
                report_step(reporter, step)

            # The job's own progress callback, timed: when each step starts, as the page would see it.
            with patch.object(services.closing_progress.StepReporter, "__call__", timed_step):
                started = time.perf_counter()
                closing = services.run_closing(closing.pk)
                ended = time.perf_counter()
            if closing.status != "done":
                raise SystemExit(f"The close was refused: {closing.error}")
            timing["job_s"] = ended - started
            marks = [started, *steps.values(), ended]
            timing["steps_s"] = {name: marks[i + 1] - marks[i]
                                 for i, name in enumerate(["start", *steps.keys()])}
            timing["batches"] = closing.batches

            started = time.perf_counter()
            growers = settle(closing.pool)
            timing["settle_s"] = time.perf_counter() - started
            timing["settled_growers"] = len(growers)

            started = time.perf_counter()
            run = prepare_run(closing.pool, by=user)
            timing["prepare_run_s"] = time.perf_counter() - started
            timing["run_lines"] = run.lines.count()
            started = time.perf_counter()
            validation_issues(run)
            timing["validation_s"] = time.perf_counter() - started

            season = default_period()
            reconcile(*season)  # the plan's first run; the page's figure is the warm one below
            started = time.perf_counter()
            report = reconcile(*season)
            timing["reconcile_s"] = time.perf_counter() - started
            timing["reconcile_growers"] = report.totals.growers
            raise Rollback
    except Rollback:
        pass
    return timing


def time_pool_page(pool):
    """Seconds for the pool page's figures computed (the cache made stale first), then read from the cache."""
    from core.cache import increment
    from pools.summary import DEPENDS_ON, pool_summary

    increment(DEPENDS_ON[0])
    started = time.perf_counter()
    pool_summary(pool)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        pool_summary(pool)
        warm.append(time.perf_counter() - started)
    return {"cold_s": round(cold, 4), "warm_s": round(statistics.median(warm), 4),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def every_grower_pool(season, user, target):
    """A pool of every grower of the company, closed and its run prepared, rolled back.

    The seeded pools are per fruit and no fruit is grown by every grower (the largest pool has ~54 of 200), so
    no pool the membership rule can make has them all. For this one the rule is replaced, in the close only
    (services.member_batches, what write_members inserts), by every n-th batch of the season, all fruits, n
    chosen for about `target` batches. After the close, settlement reads pool_batches as for any closed pool.
    It gets income in each grade and a charge of each basis, as a real pool would.
    """
    from decimal import Decimal

    from django.db import transaction
    from django.db.models import Count

    from batches.models import Batch
    from core.tenancy import company_today
    from payments.services import prepare_run
    from pools import services
    from pools.models import ChargeBasis

    season_batches = Batch.objects.filter(season=season)
    step = max(1, round(season_batches.count() / target))
    rule = season_batches.extra(where=["batches.id %% %s = 0"], params=[step])
    timing = {}
    try:
        with transaction.atomic():
            pool = services.create_pool(season=season, code="BENCH-EVERY", name="Every grower (bench)",
                                        fruit_type="apple", variety="Bench every grower", by=user)
            for grade in ("class1", "class2", "class3"):
                services.record_income(pool, grade=grade, amount=Decimal("1000000.00"), received_on=company_today(),
                                       reference=f"BENCH-{grade}", by=user)
            for basis in ChargeBasis.values:
                rate = Decimal("1.5") if basis == ChargeBasis.PERCENT_OF_INCOME else Decimal("0.12")
                services.add_charge_rule(pool, name=f"Bench {basis}", kind="other", basis=basis, rate=rate, by=user)
            closing = services.queue_close(pool, by=user)
            with patch.object(services, "member_batches", lambda _pool: rule):
                started = time.perf_counter()
                closing = services.run_closing(closing.pk)
                timing["job_s"] = time.perf_counter() - started
            if closing.status != "done":
                raise SystemExit(f"The every-grower close was refused: {closing.error}")
            started = time.perf_counter()
            run = prepare_run(closing.pool, by=user)
            timing["prepare_run_s"] = time.perf_counter() - started
            timing["close_and_prepare_s"] = timing["job_s"] + timing["prepare_run_s"]
            timing["batches"] = closing.batches
            timing["growers"] = rule.aggregate(n=Count("grower_id", distinct=True))["n"]
            timing["run_lines"] = run.lines.count()
            raise Rollback
    except Rollback:
        pass
    return {name: (round(value, 4) if isinstance(value, float) else value) for name, value in timing.items()} | {
        "every_nth_batch": step, "load_average": [round(x, 2) for x in os.getloadavg()]}


def run(company, target, repeat, every_grower=True):
    from django.db import connection
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from accounts.roles import FINANCE
    from batches.models import Batch
    from pools.models import Pool, PoolStatus
    from pools.settlement import settle
    from reconciliation.report import default_period, reconcile

    with tenant_context(company):
        with connection.cursor() as cursor:
            for table in ("batches", "pool_batches", "pools", "grower_payments", "pallet_lines"):
                cursor.execute(f"ANALYZE {table}")
        print(f"{company.schema_name}: {Batch.objects.count()} batches. Open pools of the current season:",
              flush=True)
        pool, batches, growers = pick_pool(target)
        user = User.objects.filter(groups__name=FINANCE, is_active=True).order_by("pk").first()
        print(f"Closing {pool.code} ({batches} batches, {growers} growers) {repeat} times, rolled back each time:",
              flush=True)
        rounds = []
        for number in range(1, repeat + 1):
            timing = close_and_settle(pool, user)
            rounds.append(timing)
            print(f"  round {number}: request {timing['request_s']:.3f} s, job {timing['job_s']:.3f} s "
                  f"({', '.join(f'{k} {v:.2f}' for k, v in timing['steps_s'].items())}), settle "
                  f"{timing['settle_s']:.3f} s, prepare_run {timing['prepare_run_s']:.3f} s ({timing['run_lines']} "
                  f"lines), validation {timing['validation_s']:.3f} s, season's reconciliation "
                  f"{timing['reconcile_s']:.3f} s", flush=True)

        print("The pool page's figures (pools.summary.pool_summary), open pool:", flush=True)
        page = time_pool_page(pool)
        print(f"  computed {page['cold_s']:.3f} s, from the cache {page['warm_s']:.4f} s", flush=True)

        every = every_grower_pool(pool.season, user, target) if every_grower else None

        # The same figures on a pool the seed closed (a past season's), and the report as it is, for reference.
        past = max(Pool.objects.filter(status=PoolStatus.CLOSED), key=lambda p: p.memberships.count(), default=None)
        past_settle = None
        if past is not None:
            settle(past)
            started = time.perf_counter()
            settled = settle(past)
            past_settle = {"pool": past.code, "batches": past.memberships.count(), "growers": len(settled),
                           "settle_s": round(time.perf_counter() - started, 4)}
        season = default_period()
        reconcile(*season)
        warm = []
        for _ in range(max(3, repeat)):
            started = time.perf_counter()
            reconcile(*season)
            warm.append(time.perf_counter() - started)
        server = {}
        with connection.cursor() as cursor:
            for name in ("server_version", "jit", "work_mem", "max_parallel_workers_per_gather", "shared_buffers"):
                cursor.execute(f"SHOW {name}")
                (server[name],) = cursor.fetchone()

    def median(name):
        return round(statistics.median(r[name] for r in rounds), 4)

    def total(r):
        return r["request_s"] + r["job_s"] + r["prepare_run_s"]

    summary = {
        "schema": company.schema_name, "pool": pool.code, "pool_batches": batches, "pool_growers": growers,
        "season": [str(day) for day in season], "rounds": repeat,
        "median": {name: median(name) for name in ("request_s", "job_s", "settle_s", "prepare_run_s", "validation_s",
                                                   "reconcile_s")},
        # The goal's figure: the request, the close job and preparing the run (settle() is inside prepare_run).
        "close_and_prepare_s": round(statistics.median(total(r) for r in rounds), 4),
        "pool_page": page,
        "every_grower_pool": every,
        "steps_median_s": {step: round(statistics.median(r["steps_s"][step] for r in rounds), 4)
                           for step in rounds[0]["steps_s"]},
        "reconcile_unchanged_median_s": round(statistics.median(warm), 4),
        "past_pool_settle": past_settle,
        "goals": {"close_and_prepare_s": CLOSE_AND_PREPARE_GOAL_S, "reconcile_s": RECONCILE_GOAL_S},
        "rounds_detail": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if k != "steps_s"}
                          for r in rounds],
        "postgresql": server.pop("server_version"), "settings": server, "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.machine(), "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    summary["met"] = (summary["close_and_prepare_s"] < CLOSE_AND_PREPARE_GOAL_S
                      and (every is None or every["close_and_prepare_s"] < CLOSE_AND_PREPARE_GOAL_S)
                      and summary["median"]["reconcile_s"] < RECONCILE_GOAL_S)
    return summary


def print_table(summary):
    median = summary["median"]
    print()
    print(f"Pools benchmark: {summary['pool']} ({summary['pool_batches']:,} batches, {summary['pool_growers']} "
          f"growers) in '{summary['schema']}', PostgreSQL {summary['postgresql']}, {summary['cpus']} CPUs, "
          f"load {summary['load_average']}")
    rows = [
        ("queue the close (the request)", median["request_s"], ""),
        ("the close job (run_closing)", median["job_s"], ""),
        ("settle() on the closed pool", median["settle_s"], ""),
        ("prepare_run (settle() and a line per grower)", median["prepare_run_s"], ""),
        ("the run page's validation (settle() again, to compare)", median["validation_s"], ""),
        ("request + job + prepare_run", summary["close_and_prepare_s"], f"< {CLOSE_AND_PREPARE_GOAL_S:.0f} s"),
        ("the pool page's figures, computed (open pool)", summary["pool_page"]["cold_s"], ""),
        ("the pool page's figures, from the cache", summary["pool_page"]["warm_s"], ""),
        ("season's reconciliation, pool closed", median["reconcile_s"], f"< {RECONCILE_GOAL_S:.0f} s"),
        ("season's reconciliation, as committed", summary["reconcile_unchanged_median_s"],
         f"< {RECONCILE_GOAL_S:.0f} s"),
    ]
    print(f"{'what (median of ' + str(summary['rounds']) + ')':<66} {'s':>8}  goal")
    for name, seconds, goal in rows:
        print(f"{name:<66} {seconds:>8.3f}  {goal}")
    print("job steps: " + ", ".join(f"{k} {v:.3f} s" for k, v in summary["steps_median_s"].items()))
    if summary["past_pool_settle"]:
        past = summary["past_pool_settle"]
        print(f"settle() of the seed's largest closed pool {past['pool']} ({past['batches']} batches, "
              f"{past['growers']} growers): {past['settle_s']:.3f} s")
    every = summary["every_grower_pool"]
    if every:
        print(f"every-grower pool ({every['batches']:,} batches, {every['growers']} growers, rule replaced): "
              f"job {every['job_s']:.3f} s, prepare_run {every['prepare_run_s']:.3f} s, request + job + prepare_run "
              f"{every['close_and_prepare_s']:.3f} s")
    print("Goals met." if summary["met"] else "A goal was missed.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schema", default="bench", help="The seeded company (default: bench).")
    parser.add_argument("--batches", type=int, default=100_000,
                        help="Close the current season's open pool nearest this many batches (default: 100000).")
    parser.add_argument("--repeat", type=int, default=3, help="Rounds, each rolled back (default: 3).")
    parser.add_argument("--no-every-grower", action="store_true",
                        help="Skip the pool of every grower (its membership rule replaced; see every_grower_pool).")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"Where to write the results (default: {RESULTS}).")
    args = parser.parse_args(argv)

    setup_django()
    from django.core.management import call_command
    from django_tenants.utils import get_public_schema_name, schema_context

    from tenants.models import Company

    with schema_context(get_public_schema_name()):
        company = Company.objects.filter(schema_name=args.schema).first()
    if company is None:
        raise SystemExit(f"No company '{args.schema}' in {DATABASE_URL}: seed it with `make bench` first.")
    print("Migrating (nothing to do when up to date)...", flush=True)
    call_command("migrate_schemas", verbosity=0)
    ensure_pools(company)
    summary = run(company, args.batches, args.repeat, every_grower=not args.no_every_grower)
    print_table(summary)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nWrote {args.json}")
    return 0 if summary["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
