"""Benchmark: 500 companies in one database. Creation by cloning, request latency, and a no-op migrate.

Not a test: it measures, prints a table and writes JSON (bench/results/tenants.json).
`make bench-tenants` runs

    .venv/bin/python bench/tenants.py [--tenants 500] [--reuse]

Two databases on DATABASE_URL's server (BENCH_TENANTS_DATABASE_URL / BENCH_FEW_DATABASE_URL override):
fruitpak_many gets --tenants companies, fruitpak_two gets 2. Both are dropped and made again unless --reuse.

1. Creation. Each database gets a template company, `tenant_template` (inactive, no host, no users),
   migrated the ordinary way, and `pg_dump --schema=tenant_template` of it (tables, indexes, triggers,
   the materialized view, and the rows migrations made: roles, permissions, content types, the
   django_migrations ledger). Every company is then made by the real provisioning service
   (tenants.services.create_company: validation, schema, domain, first manager, clean-up on failure)
   with one step swapped: the schema is that dump replayed under the new name (psql, one transaction),
   instead of CREATE SCHEMA plus every migration. django-tenants' own clone_schema() SQL function
   (TENANT_BASE_SCHEMA) was measured first and took 8-17 s per company once 95 schemas existed,
   growing with the catalog; the dump takes about half a second. --workers processes create companies
   side by side (progress bar). The first managers' passwords are hashed with MD5 here, because 500
   PBKDF2 hashes would time the hasher, not the schemas.
2. Latency. The company in the middle of the 500 (and the second of the 2) gets the same demo data
   (seed_demo --batches 20000 --seed 2026) and a clerk. Each database in turn is served in the
   production shape (scripts/serve.py) and ApacheBench loads, on the probed company, /health, the
   cached growers list, and a page of 50 batches. The numbers of the two databases stand side by side.
3. `migrate_schemas` with nothing to apply, timed on both databases, with the standard and the
   multiprocessing executor (TENANT_MULTIPROCESSING_MAX_PROCESSES, default 2).
4. Operations at that many companies (also alone, on databases already made: --only-ops):
   - `manage.py warm_cache` over every company, on an empty cache (its Redis database flushed first) and
     again on a warm one;
   - `migrate_schemas` with nothing to apply, `standard` and `behind` executors;
   - a real migration: a throwaway nullable AddField on growers (written as growers/migrations/
     0999_bench_probe.py for the run and always deleted), applied with `standard`, unapplied, applied
     with `behind`, and unapplied again.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PYTHON, ROOT, Site, ab, machine, same_server, say, serve, which_or_exit  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "tenants.json"
BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/fruitpak")
MANY_URL = os.environ.get("BENCH_TENANTS_DATABASE_URL") or same_server(BASE_DATABASE_URL, "fruitpak_many")
FEW_URL = os.environ.get("BENCH_FEW_DATABASE_URL") or same_server(BASE_DATABASE_URL, "fruitpak_two")
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or same_server(
    os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), "7")
TEMPLATE = "tenant_template"
PASSWORD = "fruitpak-demo-bench"
SEED = {"batches": 20_000, "growers": 120, "seed": 2026}
VAR_DIR = ROOT / ".var" / "bench-tenants"


def schema_name(number):
    return f"co{number:03d}"


def host(number):
    return f"{schema_name(number)}.many.localhost"


# --- Creating the companies (runs in a child process per database: Django is set up for one database) ----


def setup_django(database_url):
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "fruitpak.settings.dev"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def template_dump_file(database_url):
    return VAR_DIR / f"{database_url.rsplit('/', 1)[1]}-template.sql"


def clone_from_dump(database_url):
    """A Company.create_schema that replays the template's dump under the company's schema name."""
    sql_text = template_dump_file(database_url).read_text()

    def create_schema(company, check_if_exists=False, sync_schema=True, verbosity=1):
        script = sql_text.replace(TEMPLATE, company.schema_name)
        subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", database_url],
                       input=script, text=True, check=True, stdout=subprocess.DEVNULL)
        return True

    return create_schema


def dump_template(database_url):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pg_dump", "--schema", TEMPLATE, "--no-owner", "--no-privileges", "-f",
                    str(template_dump_file(database_url)), "-d", database_url], check=True)


def create_one(number):
    from django.db import connections

    from tenants.services import NewCompany, create_company

    started = time.perf_counter()
    create_company(NewCompany(
        schema=schema_name(number), name=f"Company {number:03d}", domain=host(number),
        admin_email=f"manager@{host(number)}", admin_password=PASSWORD,
    ))
    connections.close_all()
    return number, time.perf_counter() - started


def worker_init(database_url):
    setup_django(database_url)
    from tenants.models import Company

    Company.create_schema = clone_from_dump(database_url)


def prepare(database_url, tenants, probe, workers):
    """Template, companies 1..tenants, data and a clerk in the probed one. Prints one JSON line."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    setup_django(database_url)
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connections
    from django.test import override_settings
    from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
    from tqdm import tqdm

    from accounts import services as account_services
    from accounts.models import User
    from accounts.roles import CLERK
    from tenants.models import Company
    from tenants.services import ensure_public_tenant

    report = {}
    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, executor="standard", verbosity=0)
    with schema_context(get_public_schema_name()):
        ensure_public_tenant("localhost")
        if not Company.objects.filter(schema_name=TEMPLATE).exists():
            # Migrated the ordinary way: the only schema that runs every migration.
            template_started = time.perf_counter()
            Company(schema_name=TEMPLATE, name="Template (clone source)", is_active=False).save(verbosity=0)
            report["template_migrate_s"] = round(time.perf_counter() - template_started, 2)
        existing = set(Company.objects.values_list("schema_name", flat=True))
    connections.close_all()
    dump_template(database_url)
    missing = [number for number in range(1, tenants + 1) if schema_name(number) not in existing]
    say(f"{database_url.rsplit('/', 1)[1]}: {tenants - len(missing)} companies exist, creating {len(missing)} "
        f"from the dump of {TEMPLATE} ({workers} processes)...")
    durations = []
    create_started = time.perf_counter()
    if missing:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=worker_init,
                                 initargs=(database_url,)) as pool:
            futures = [pool.submit(create_one, number) for number in missing]
            for future in tqdm(as_completed(futures), total=len(futures), unit="company", file=sys.stderr):
                durations.append(future.result()[1])
    create_s = time.perf_counter() - create_started
    report.update({
        "tenants": tenants, "created": len(durations), "workers": workers,
        "create_s": round(create_s, 2),
        "per_company_s": round(create_s / len(durations), 3) if durations else None,
        "one_company_median_s": round(statistics.median(durations), 3) if durations else None,
        "one_company_max_s": round(max(durations), 3) if durations else None,
    })

    company = Company.objects.get(schema_name=schema_name(probe))
    say(f"Demo data in {company.schema_name} (seed_demo --batches {SEED['batches']})...")
    call_command("seed_demo", schema=company.schema_name, verbosity=0, **SEED)
    pbkdf2 = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    with tenant_context(company), override_settings(PASSWORD_HASHERS=pbkdf2):
        email = f"clerk@{host(probe)}"
        if not User.objects.filter(email__iexact=email).exists():
            account_services.create_user(email=email, password=PASSWORD, role=CLERK)
        assert make_password("x").startswith("pbkdf2")
    with schema_context(get_public_schema_name()):
        report["schemas"] = Company.objects.count()
    report["prepare_s"] = round(time.perf_counter() - started, 2)
    connections.close_all()
    print(json.dumps(report), flush=True)


# --- The orchestration (no Django in this process) ---------------------------------------------------------


def recreate_database(url):
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_database(url):
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run_prepare(url, tenants, probe, workers):
    command = [str(PYTHON), __file__, "_prepare", "--database-url", url, "--tenants", str(tenants),
               "--probe", str(probe), "--workers", str(workers)]
    run = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


MIGRATE_TIMEOUT_S = {"standard": 1800, "multiprocessing": 60}


def time_migrate(url, executor):
    """Seconds, or None when it did not finish in time (the multiprocessing executor forks a process
    whose psycopg pool threads did not survive the fork; see docs/PERFORMANCE.md)."""
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, DJANGO_SETTINGS_MODULE="fruitpak.settings.dev")
    started = time.perf_counter()
    process = subprocess.Popen([str(PYTHON), "manage.py", "migrate_schemas", f"--executor={executor}", "-v", "0"],
                               cwd=ROOT, env=env, start_new_session=True)
    try:
        code = process.wait(timeout=MIGRATE_TIMEOUT_S[executor])
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        say(f"  migrate_schemas --executor={executor} did not finish in {MIGRATE_TIMEOUT_S[executor]} s; stopped it")
        return None
    if code != 0:
        raise RuntimeError(f"migrate_schemas --executor={executor} failed ({code})")
    return round(time.perf_counter() - started, 2)


PROBE_MIGRATION = ROOT / "growers" / "migrations" / "0999_bench_probe.py"
PROBE_MIGRATION_TEXT = '''"""bench/tenants.py's throwaway migration: a nullable column, added and dropped again.

Never committed (.gitignore).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("growers", "{previous}")]

    operations = [
        migrations.AddField("grower", "bench_probe", models.CharField(max_length=20, null=True, blank=True)),
    ]
'''


def manage_timed(url, *args, timeout=3600):
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, DJANGO_SETTINGS_MODULE="fruitpak.settings.dev",
               LOG_LEVEL="WARNING")
    started = time.perf_counter()
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - started, 2)


def flush_bench_redis():
    """Empty the bench's own Redis database (BENCH_REDIS_URL's number, never db 0), for a cold cache."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def measure_ops(url):
    """warm_cache cold and warm, and migrate_schemas with nothing and with one real migration to apply."""
    # In order of what matters most, each printed as it ends: on a busy machine the later ones may be cut.
    report = {}
    flush_bench_redis()
    say("  warm_cache on an empty cache...")
    report["warm_cache_cold_s"] = manage_timed(url, "warm_cache", "--no-progress")
    say(f"    {report['warm_cache_cold_s']} s")
    for executor in ("standard", "behind"):
        report[f"migrate_noop_{executor}_s"] = manage_timed(url, "migrate_schemas", f"--executor={executor}",
                                                            "-v", "0")
        say(f"  migrate_schemas, nothing to apply, {executor}: {report[f'migrate_noop_{executor}_s']} s")
    previous = sorted(path.stem for path in PROBE_MIGRATION.parent.glob("0*.py") if path != PROBE_MIGRATION)[-1]
    PROBE_MIGRATION.write_text(PROBE_MIGRATION_TEXT.format(previous=previous))
    try:
        for executor in ("standard", "behind"):
            report[f"migrate_add_field_{executor}_s"] = manage_timed(
                url, "migrate_schemas", f"--executor={executor}", "-v", "0")
            say(f"  migrate_schemas, one AddField, {executor}: {report[f'migrate_add_field_{executor}_s']} s")
            report[f"migrate_unapply_{executor}_s"] = manage_timed(
                url, "migrate_schemas", "growers", previous, f"--executor={executor}", "-v", "0")
            say(f"  migrate_schemas back to growers {previous}, {executor}: "
                f"{report[f'migrate_unapply_{executor}_s']} s")
    finally:
        PROBE_MIGRATION.unlink(missing_ok=True)
    report["warm_cache_warm_s"] = manage_timed(url, "warm_cache", "--no-progress")
    say(f"  warm_cache again (warm): {report['warm_cache_warm_s']} s")
    return report


def measure_requests(url, probe, rounds, listen, app_ports):
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, LOG_LEVEL="WARNING",
               API_THROTTLE_USER="1000000/second", API_THROTTLE_ANON="1000000/second")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    serve_dir = VAR_DIR / "serve"
    serve("start", serve_dir, listen, app_ports, env)
    results = {}
    try:
        site = Site(listen, host(probe))
        token = site.api_token(f"clerk@{host(probe)}", PASSWORD)
        headers = [f"Authorization: Bearer {token}"]
        for name, path, auth in (("health", "/health", []), ("growers", "/api/growers/", headers),
                                 ("batches", "/api/batches/?limit=50", headers)):
            status, _, _ = site.request("GET", path, headers=dict(h.split(": ", 1) for h in auth))
            if status != 200:
                raise RuntimeError(f"{path} on {host(probe)}: HTTP {status}")
            target = f"http://{listen}{path}"
            ab(target, 100, 10, host(probe), headers=auth)
            loads = [ab(target, 1000, 10, host(probe), headers=auth) for _ in range(rounds)]
            results[name] = {
                key: round(statistics.median(getattr(load, key) for load in loads), 2)
                for key in ("rate", "mean_ms", "p50_ms", "p95_ms", "p99_ms")
            }
            results[name]["failed"] = sum(load.failed + load.non_2xx for load in loads)
            say(f"  {path}: {results[name]['rate']:.0f} req/s, p50 {results[name]['p50_ms']:.1f} ms, "
                f"p95 {results[name]['p95_ms']:.1f} ms")
    finally:
        serve("stop", serve_dir, listen, app_ports, env)
    return results


def table(report):
    few, many = report["databases"]["few"], report["databases"]["many"]
    lines = [
        f"{'':<44} {'2 companies':>14} {str(many['tenants']) + ' companies':>14}",
        f"{'companies created':<44} {few['created']:>14} {many['created']:>14}",
        f"{'creation, total s':<44} {few['create_s']:>14} {many['create_s']:>14}",
        f"{'creation, s per company (wall clock)':<44} {str(few['per_company_s']):>14} "
        f"{str(many['per_company_s']):>14}",
        f"{'one company, median s (in its process)':<44} {str(few['one_company_median_s']):>14} "
        f"{str(many['one_company_median_s']):>14}",
    ]
    for executor in ("standard", "multiprocessing"):
        few_s, many_s = (str(db["migrate_noop_s"][executor] or "hung") for db in (few, many))
        lines.append(f"{'migrate_schemas, nothing to apply, ' + executor[:5] + ', s':<44} {few_s:>14} {many_s:>14}")
    ops_rows = (("warm_cache_cold_s", "warm_cache, empty cache, s"), ("warm_cache_warm_s", "warm_cache, warm cache, s"),
                ("migrate_noop_standard_s", "migrate_schemas, nothing, standard, s"),
                ("migrate_noop_behind_s", "migrate_schemas, nothing, behind, s"),
                ("migrate_add_field_standard_s", "migrate_schemas, one AddField, standard, s"),
                ("migrate_add_field_behind_s", "migrate_schemas, one AddField, behind, s"))
    for key, label in ops_rows:
        lines.append(f"{label:<44} {few.get('ops', {}).get(key, '-'):>14} {many.get('ops', {}).get(key, '-'):>14}")
    for name in ("health", "growers", "batches"):
        for key, label in (("rate", "req/s"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("failed", "failed")):
            lines.append(f"{name + ' ' + label:<44} {few['requests'][name][key]:>14} {many['requests'][name][key]:>14}")
    return "\n".join(lines)


def only_ops(args):
    """Step 4 alone, added to the JSON of the earlier run when there is one."""
    path = Path(args.json)
    report = json.loads(path.read_text()) if path.exists() else {"databases": {}}
    started = time.monotonic()
    for label, url in (("many", MANY_URL), ("few", FEW_URL)):
        say(f"{url.rsplit('/', 1)[1]}: warm_cache and migrations...")
        report["databases"].setdefault(label, {"database": url.rsplit("/", 1)[1]})["ops"] = measure_ops(url)
    report["ops_generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["ops_seconds"] = round(time.monotonic() - started, 1)
    report.setdefault("machine", machine(MANY_URL, REDIS_URL))
    print(json.dumps({label: db.get("ops") for label, db in report["databases"].items()}, indent=2))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    say(f"Wrote {path}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=500, help="Companies in the big database (default 500).")
    parser.add_argument("--workers", type=int, default=2, help="Processes creating companies (default 2).")
    parser.add_argument("--rounds", type=int, default=3, help="ab runs per request scenario (default 3).")
    parser.add_argument("--reuse", action="store_true", help="Keep the databases and the companies already made.")
    parser.add_argument("--listen", default="127.0.0.1:8280")
    parser.add_argument("--app-ports", default="8281,8282")
    parser.add_argument("--json", default=str(RESULTS))
    parser.add_argument("--only-ops", action="store_true",
                        help="Only step 4 (warm_cache, migrations), on the databases an earlier run made.")
    args = parser.parse_args(argv)
    if args.only_ops:
        return only_ops(args)
    which_or_exit("ab", "nginx")
    app_ports = [int(port) for port in args.app_ports.split(",")]
    started = time.monotonic()
    databases = {}
    for label, url, tenants in (("few", FEW_URL, 2), ("many", MANY_URL, args.tenants)):
        (ensure_database if args.reuse else recreate_database)(url)
        probe = 2 if tenants == 2 else (tenants + 1) // 2
        databases[label] = run_prepare(url, tenants, probe, args.workers)
        databases[label].update({"database": url.rsplit("/", 1)[1], "probe": schema_name(probe)})
    for label, url in (("few", FEW_URL), ("many", MANY_URL)):
        say(f"{databases[label]['database']}: migrate_schemas with nothing to apply...")
        databases[label]["migrate_noop_s"] = {executor: time_migrate(url, executor)
                                              for executor in ("standard", "multiprocessing")}
        say(f"  {databases[label]['migrate_noop_s']}")
    for label, url in (("few", FEW_URL), ("many", MANY_URL)):
        say(f"{databases[label]['database']}: warm_cache and migrations...")
        databases[label]["ops"] = measure_ops(url)
    for label, url in (("few", FEW_URL), ("many", MANY_URL)):
        say(f"{databases[label]['database']}: requests on {databases[label]['probe']}...")
        probe = int(databases[label]["probe"][2:])
        databases[label]["requests"] = measure_requests(url, probe, args.rounds, args.listen, app_ports)

    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "machine": machine(MANY_URL, REDIS_URL),
        "databases": databases,
    }
    print(table(report))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    say(f"Wrote {args.json}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_prepare":
        internal = argparse.ArgumentParser()
        internal.add_argument("_prepare")
        internal.add_argument("--database-url", required=True)
        internal.add_argument("--tenants", type=int, required=True)
        internal.add_argument("--probe", type=int, required=True)
        internal.add_argument("--workers", type=int, required=True)
        options = internal.parse_args()
        prepare(options.database_url, options.tenants, options.probe, options.workers)
    else:
        sys.exit(main())
