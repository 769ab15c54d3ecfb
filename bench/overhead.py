"""Benchmark: what one request costs in-process, before the view does its own work.

Not a test: it counts queries and times requests made with Django's test
Client (no network, no gunicorn), prints a table and writes JSON
(bench/results/overhead.json, one entry per `--label`, so a "before" and an
"after" run sit side by side).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fruitpak_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/overhead.py --label after --requests 2000

It migrates the database, makes the company `overhead` (host
overhead.localhost) when it is missing, with 120 growers and 3 packhouses
made by the services, and a user per role. Per scenario it reports the
queries of one warm request (and how many of them are `SET search_path`),
and the mean time of `--requests` requests.
"""

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "overhead.json"
SCHEMA = "overhead"
HOST = "overhead.localhost"
PASSWORD = "overhead-bench-password"
BEARER_TOKEN = {}


def setup_django():
    sys.path.insert(0, str(ROOT))
    # The development profile, but with DEBUG off as in production: DEBUG keeps every query in memory.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fruitpak.settings.dev")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    # DRF's throttles (a Redis GET and SET of the client's request history per API request) would
    # refuse a benchmark's rate; they are not what this measures.
    from django.conf import settings
    from rest_framework.settings import api_settings
    from rest_framework.views import APIView

    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = []
    api_settings.reload()
    APIView.throttle_classes = []


def ensure_company():
    from django_tenants.utils import tenant_context

    from accounts import services as account_services
    from accounts.roles import ROLES
    from growers.models import Grower
    from growers.services import create_grower
    from packhouses.models import Packhouse
    from packhouses.services import create_packhouse

    company = harness.ensure_company(
        SCHEMA, name="Overhead bench", domain=HOST, admin_email=f"manager@{HOST}", admin_password=PASSWORD,
    )
    with tenant_context(company):
        for role in ROLES:
            account_services.ensure_user(email=f"{role.lower()}@{HOST}", password=PASSWORD, role=role)
        for n in range(Packhouse.objects.count(), 3):
            create_packhouse(code=f"PH{n + 1}", name=f"Packhouse {n + 1}")
        for n in range(Grower.objects.count(), 120):
            create_grower(code=f"G{n + 1:04d}", name=f"Grower {n + 1}")
    return company


def scenarios(company):
    """(name, a function making one request, the status it must answer)."""
    from django.test import Client
    from django_tenants.utils import tenant_context

    from accounts.models import User

    anonymous = Client(HTTP_HOST=HOST)
    response = anonymous.post(
        "/api/auth/login", {"email": f"clerk@{HOST}", "password": PASSWORD}, content_type="application/json",
    )
    assert response.status_code == 200, response.content
    BEARER_TOKEN["access"] = response.json()["access_token"]
    bearer = Client(HTTP_HOST=HOST, HTTP_AUTHORIZATION="Bearer " + BEARER_TOKEN["access"])
    browser = Client(HTTP_HOST=HOST)
    with tenant_context(company):
        browser.force_login(User.objects.get(email=f"clerk@{HOST}"))

    return [
        ("GET /api/growers/ (Bearer)", lambda: bearer.get("/api/growers/"), 200),
        ("GET /api/growers/?limit=500 (Bearer)", lambda: bearer.get("/api/growers/?limit=500"), 200),
        ("GET /api/packhouses/ (Bearer)", lambda: bearer.get("/api/packhouses/"), 200),
        ("GET /api/growers/ (session cookie)", lambda: browser.get("/api/growers/"), 200),
        ("GET /api/ (Bearer; root, never cached)", lambda: bearer.get("/api/"), 200),
        ("GET / (session; dashboard HTML)", lambda: browser.get("/"), 200),
        ("GET /api/growers/ (no token: 401)", lambda: anonymous.get("/api/growers/"), 401),
        ("GET /health", lambda: anonymous.get("/health"), 200),
    ]


def token_verification(count):
    """Microseconds to verify one access token (signature and claims), without the user's query."""
    from django_tenants.utils import schema_context
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.authentication import TenantJWTAuthentication

    raw = BEARER_TOKEN["access"].encode()
    authentication = TenantJWTAuthentication()
    with schema_context(SCHEMA):
        started = time.perf_counter()
        for _ in range(count):
            authentication.get_validated_token(raw)
        verify = (time.perf_counter() - started) / count
    started = time.perf_counter()
    for _ in range(count):
        AccessToken(raw, verify=False)
    parse = (time.perf_counter() - started) / count
    return {"verify_us": round(verify * 1e6, 1), "decode_without_verifying_us": round(parse * 1e6, 1)}


def measure(name, request, status, count):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(20):  # warm: caches filled, code paths compiled
        assert request().status_code == status, name
    with CaptureQueriesContext(connection) as captured:
        request()
    sql = [query["sql"] for query in captured.captured_queries]
    times = []
    for _ in tqdm(range(count), desc=name, leave=False, unit="req", disable=None):
        started = time.perf_counter()
        request()
        times.append(time.perf_counter() - started)
    return {
        "name": name,
        "queries": len(sql),
        "search_path_sets": sum(1 for statement in sql if statement.startswith("SET search_path")),
        "sql": sql,
        "requests": count,
        "mean_ms": round(statistics.mean(times) * 1000, 3),
        "median_ms": round(statistics.median(times) * 1000, 3),
        "requests_per_s": round(count / sum(times), 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", default="latest", help="the name this run is stored under in the JSON")
    parser.add_argument("--requests", type=int, default=2000, help="requests timed per scenario")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"the JSON file (default {RESULTS})")
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    logging.getLogger("django.request").setLevel(logging.ERROR)  # not a line per 401
    company = ensure_company()
    requests = scenarios(company)
    connection.set_schema_to_public()
    rows = [measure(name, request, status, args.requests) for name, request, status in requests]
    jwt = token_verification(args.requests)

    print(f"\n{args.label}: {args.requests} in-process requests per scenario")
    print(f"{'scenario':42} {'queries':>7} {'SETs':>5} {'mean ms':>8} {'median ms':>9} {'req/s':>8}")
    for row in rows:
        print(f"{row['name']:42} {row['queries']:>7} {row['search_path_sets']:>5} {row['mean_ms']:>8.3f} "
              f"{row['median_ms']:>9.3f} {row['requests_per_s']:>8.1f}")
    print(f"JWT: {jwt['verify_us']} us to verify a token, "
          f"{jwt['decode_without_verifying_us']} us to decode it unverified")

    results = json.loads(args.output.read_text()) if args.output.exists() else {}
    results[args.label] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average": os.getloadavg(),
        "jwt": jwt,
        "scenarios": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nWritten to {args.output} under '{args.label}'.")


if __name__ == "__main__":
    main()
