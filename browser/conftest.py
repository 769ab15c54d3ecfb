"""Fixtures of the browser tests: a real server on a database of their own, and a real browser.

pytest-django's live_server would need transactional_db, which flushes the
tables between tests and so would wipe the companies the root conftest makes.
Instead, once per session:

1. a database `fruitpak_browser_<pid>` is created next to the one in
   DATABASE_URL (a TCP or a unix-socket URL), migrated, and given the company
   acme (acme.localhost) with a manager, a clerk, a finance user, packhouses
   and growers, all through manage.py and the services, like production;
2. Redis, when there is one, is a database number of its own (claimed, so two
   runs at once never share cached pages, and emptied before and after);
3. gunicorn serves it on a free port with the development profile.

The teardown stops gunicorn and drops the database. Nothing here uses the
`db` fixture, so the root conftest's test database is never made for these
tests. Each test gets a fresh browser context (no cookies) and page; a
failed test leaves a full-page screenshot in test-artifacts/screenshots/.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from playwright.sync_api import expect, sync_playwright
from psycopg import sql

from browser import helpers

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_LOG = ARTIFACTS / "browser-server.log"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]
DB_PREFIX = "fruitpak_browser_"
REDIS_DBS = range(15, 7, -1)  # the numbers a browser run may claim; the app itself uses 0
REDIS_CLAIM_KEY = "fruitpak:browser-run"
TIMEOUT_MS = 10_000
# The environment gunicorn serves with (live_url fills it): what a worker or a setup command beside it needs.
SERVER_ENV = {}
WORKER_LOG = ARTIFACTS / "browser-worker.log"

expect.set_options(timeout=TIMEOUT_MS)


# --- Database ------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    """The same PostgreSQL URL naming another database.

    Works for TCP URLs (postgresql://u@127.0.0.1:5432/fruitpak) and unix-socket
    ones (postgresql://u@/fruitpak?host=/path/.var/pg): only the path changes.
    """
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def admin_connection(url: str):
    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def drop_database(url: str, name: str) -> None:
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_orphans(url: str) -> None:
    """Databases left by browser runs that were killed before their teardown (their pid is gone)."""
    with admin_connection(url) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                                [DB_PREFIX + "%"])]
    for name in names:
        pid = name.removeprefix(DB_PREFIX)
        if pid.isdigit() and not pid_alive(int(pid)):
            drop_database(url, name)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- Redis ---------------------------------------------------------------------


def with_redis_db(url: str, number: int) -> str:
    """The same Redis URL with another database number (redis://h:p/0 or unix:///x.sock?db=0)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(number)
        return f"unix://{parts.netloc}{parts.path}?{urlencode(query)}"  # urlunsplit would drop the //
    return urlunsplit(parts._replace(path=f"/{number}"))


def claim_redis(url: str):
    """A Redis URL on a database number no other browser run is using, emptied; or "" (run uncached)."""
    if not url:
        return "", None
    import redis

    for number in REDIS_DBS:
        candidate = with_redis_db(url, number)
        client = redis.Redis.from_url(candidate, socket_connect_timeout=1, socket_timeout=2)
        try:
            if client.set(REDIS_CLAIM_KEY, os.getpid(), nx=True, ex=6 * 3600):
                for key in client.scan_iter(count=1000):
                    if key != REDIS_CLAIM_KEY.encode():
                        client.delete(key)
                return candidate, client
        except redis.ResponseError:
            pass  # a server with fewer databases
        except redis.RedisError:
            client.close()
            break
        client.close()
    print("browser tests: no free Redis database number; the server runs uncached", file=sys.stderr)
    return "", None


# --- The server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, stdin=None):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


SEED = textwrap.dedent(f"""
    from django_tenants.utils import tenant_context
    from accounts.services import ensure_user
    from growers.services import create_block, create_farm, create_grower
    from packhouses.services import create_packhouse
    from tenants.models import Company
    from tenants.services import ensure_public_tenant

    ensure_public_tenant("localhost")
    company = Company.objects.get(schema_name={helpers.SCHEMA!r})
    company.gs1_company_prefix = {helpers.GS1_PREFIX!r}
    company.save(update_fields=["gs1_company_prefix"])
    with tenant_context(company):
        ensure_user(email={helpers.CLERK!r}, password={helpers.PASSWORD!r}, role="Clerk")
        ensure_user(email={helpers.FINANCE!r}, password={helpers.PASSWORD!r}, role="Finance")
        packhouses = [create_packhouse(code=code, name=name) for code, name in {helpers.PACKHOUSES!r}]
        blocks = []
        for code, name in {helpers.GROWERS!r}:
            grower = create_grower(code=code, name=name)
            farm = create_farm(grower=grower, code=code + "-F1", name="Home farm", puc="P" + code[1:])
            blocks.append(create_block(farm=farm, code="B01", fruit_type="apple", variety="Gala"))
        # A packed batch on a closed pallet, for the label test: through the services, like a clerk.
        from datetime import date
        from decimal import Decimal
        from batches import services as batches
        from pallets import services as pallets
        batch = batches.record_intake(packhouse=packhouses[0], block=blocks[0], harvest_date=date.today(),
                                      bin_count=4, gross_weight_kg=Decimal("1500"), tare_weight_kg=Decimal("200"))
        batch = batches.transition(batch, "grading")
        batch = batches.record_packout(batch, class1_kg=Decimal("1000"), class2_kg=Decimal("200"),
                                       class3_kg=Decimal("50"), waste_kg=Decimal("50"))
        batch = batches.transition(batches.transition(batch, "packing"), "packed")
        pallet = pallets.build_pallet(packhouses[0])
        pallets.add_line(pallet, batch=batch, grade="class1", cartons={helpers.LABEL_CARTONS!r}, kg=Decimal("900"))
        pallets.close(pallet)
""")


def wait_until_healthy(process, port, deadline=30.0):
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {SERVER_LOG}:\n{tail(SERVER_LOG)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /health in {deadline:.0f} s; see {SERVER_LOG}:\n{tail(SERVER_LOG)}")


def tail(path, lines=40):
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_url():
    """http://acme.localhost:<port>, served by gunicorn from a database made for this run."""
    source_url = os.environ["DATABASE_URL"]
    name = f"{DB_PREFIX}{os.getpid()}"
    db_url = with_database(source_url, name)
    drop_orphans(source_url)
    drop_database(source_url, name)
    with admin_connection(source_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    redis_url, redis_client = claim_redis(os.environ.get("REDIS_URL", ""))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fruitpak.settings.dev",
        # As `make run` serves it: DEBUG off, so error pages are the product's own.
        "DEBUG": "false",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "FRUITPAK_ADMIN_PASSWORD": helpers.PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    server = None
    SERVER_ENV.update(env)
    try:
        manage(env, "migrate_schemas", "--executor=standard", "-v", "0")
        manage(env, "create_company", "--schema", helpers.SCHEMA, "--name", helpers.COMPANY_NAME,
               "--domain", helpers.DOMAIN, "--admin-email", helpers.MANAGER, "--time-zone", helpers.TIME_ZONE)
        manage(env, "shell", "-c", SEED)

        port = free_port()
        ARTIFACTS.mkdir(exist_ok=True)
        with SERVER_LOG.open("w") as log:
            server = subprocess.Popen(
                [str(BIN / "gunicorn"), "fruitpak.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                 "--access-logfile", "-", "--access-logformat", '%(t)s "%(r)s" %(s)s %(b)s %(M)sms',
                 "--graceful-timeout", "5"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        wait_until_healthy(server, port)
        yield f"http://{helpers.DOMAIN}:{port}"
    finally:
        if server is not None:
            stop(server)
        drop_database(source_url, name)
        if redis_client is not None:
            with contextlib.suppress(Exception):
                redis_client.flushdb()  # the cached pages and the claim
            redis_client.close()


@pytest.fixture(scope="session")
def server_shell(live_url):
    """Runs Python in `manage.py shell` on the server's database: test data through the services."""
    return lambda code: manage(SERVER_ENV, "shell", "-c", textwrap.dedent(code))


@pytest.fixture(scope="session")
def job_worker(live_url):
    """The job worker beside gunicorn, as `make run` starts it (Procfile), for the tests that queue jobs."""
    with WORKER_LOG.open("w") as log:
        worker = subprocess.Popen([sys.executable, "manage.py", "procrastinate", "worker"], cwd=ROOT,
                                  env=SERVER_ENV, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield worker
    finally:
        stop(worker)


# --- The browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test (rep_setup, rep_call, rep_teardown) for the page fixture."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser, live_url, request):
    """A fresh context (no cookies) and page on the company's host; a screenshot if the test fails."""
    context = browser.new_context(base_url=live_url, locale="en-ZA", timezone_id=helpers.TIME_ZONE,
                                  viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png")
        with contextlib.suppress(Exception):
            page.screenshot(path=path, full_page=True)
            print(f"screenshot: {path.relative_to(ROOT)} (at {page.url})")
    context.close()
