"""Faults: PostgreSQL lost before or during a request, Redis down, a write interrupted mid-transaction.

The database-down tests run the real WSGI application (what gunicorn calls) in
a subprocess, so its broken or blocked connections never touch this test
session's connection. `make chaos` does the same against a live gunicorn while
PostgreSQL restarts and Redis is killed (docs/RELIABILITY.md).
"""

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection
from django.db import utils as db_errors

from core.tests.helpers import redis_down_caches

ROOT = Path(__file__).resolve().parents[2]

# Runs in the subprocess: one request through fruitpak.wsgi.application, answered as
# {"status": 503, "headers": {...}, "body": "..."}.
WSGI_CLIENT = textwrap.dedent("""
    import io, json, sys
    from wsgiref.util import setup_testing_defaults

    from fruitpak.wsgi import application

    def request(path, host="acme.localhost", method="GET", headers=None):
        environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "HTTP_HOST": host, "SERVER_NAME": host,
                   "wsgi.input": io.BytesIO(b""), "wsgi.errors": io.StringIO()}
        environ.update(headers or {})
        setup_testing_defaults(environ)
        answer = {}
        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(response_headers)
        chunks = application(environ, start_response)
        answer["body"] = b"".join(chunks).decode()
        getattr(chunks, "close", lambda: None)()
        return answer
""")


def run_app(script, database_url, settings="fruitpak.settings.prod", timeout=60):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "SECRET_KEY": "fault-test-key-long-enough-for-hs256-signing-x",
        "DATABASE_URL": database_url,
        # No cache: every request really asks PostgreSQL for the host's company.
        "REDIS_URL": "",
        "ALLOWED_HOSTS": ".localhost,localhost",
        "DB_CONNECT_TIMEOUT": "1",
        "DB_POOL_TIMEOUT": "1",
        "LOG_LEVEL": "CRITICAL",
    }
    result = subprocess.run(
        [sys.executable, "-c", WSGI_CLIENT + textwrap.dedent(script)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def closed_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def assert_json_503(answer):
    assert answer["status"] == 503, answer
    assert answer["headers"]["Content-Type"] == "application/json"
    assert answer["headers"]["Retry-After"] == "5"
    body = json.loads(answer["body"])
    assert body["code"] == "service_unavailable"
    assert "try again" in body["detail"]


def assert_page_503(answer):
    assert answer["status"] == 503, answer
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert answer["headers"]["Retry-After"] == "5"
    assert "Back in a moment" in answer["body"]
    assert "Traceback" not in answer["body"] and "OperationalError" not in answer["body"]


# --- PostgreSQL unreachable ------------------------------------------------------


def test_unreachable_database_gives_503_json_in_the_api_and_a_page_elsewhere():
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/fruitpak"
    answers = run_app("""
        print(json.dumps({
            "api": request("/api/batches/", headers={"HTTP_AUTHORIZATION": "Bearer x.y.z"}),
            "api_login": request("/api/auth/login", method="POST"),
            "page": request("/batches/"),
            "public_host": request("/admin/", host="localhost"),
            "live": request("/health"),
            "ready": request("/health/ready"),
        }))
    """, url)

    assert_json_503(answers["api"])
    assert_json_503(answers["api_login"])
    assert_page_503(answers["page"])
    assert_page_503(answers["public_host"])
    # Liveness does not need the database; readiness says it is down.
    assert answers["live"]["status"] == 200
    assert answers["ready"]["status"] == 503
    assert json.loads(answers["ready"]["body"])["down"] == ["database"]


def test_a_connection_killed_mid_request_gives_503_and_the_next_request_gets_a_new_one(db):
    """PostgreSQL kills the request's connection while its query waits (as a restart does).

    The tenant lookup of the request is made to wait on a table lock, its
    backend is terminated, and the same process then serves the next requests
    on a fresh pooled connection: recovery without a restart.
    """
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/fruitpak"))
    test_db_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"],
                                            query="application_name=fruitpak-fault-test"))
    admin_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"], query=""))
    answers = run_app(f"""
        import threading, time
        import psycopg

        killed = []

        def kill_when_waiting():
            # Wait for the request's backend to block on the lock, then terminate it.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with psycopg.connect({admin_url!r}, autocommit=True) as watcher:
                    rows = watcher.execute(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = 'fruitpak-fault-test' "
                        "AND wait_event_type = 'Lock'").fetchall()
                    for (pid,) in rows:
                        watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
                        killed.append(pid)
                if rows:
                    return
                time.sleep(0.05)

        def with_locked_domains(path, **kwargs):
            with psycopg.connect({admin_url!r}) as admin:
                admin.execute("LOCK TABLE public.tenants_domain IN ACCESS EXCLUSIVE MODE")
                killer = threading.Thread(target=kill_when_waiting)
                killer.start()
                answer = request(path, **kwargs)
                killer.join()
                admin.rollback()
            return answer

        before = request("/api/")
        api = with_locked_domains("/api/")
        page = with_locked_domains("/login/")
        after = [request("/api/") for _ in range(3)]
        print(json.dumps({{"before": before, "api": api, "page": page, "after": after, "killed": len(killed)}}))
    """, test_db_url)

    assert answers["killed"] == 2, "the requests never waited on the lock, so nothing was killed mid-request"
    # /api/ without credentials is a 401: proof the database answered.
    assert answers["before"]["status"] == 401
    assert_json_503(answers["api"])
    assert_page_503(answers["page"])
    assert [a["status"] for a in answers["after"]] == [401, 401, 401]


# --- A write interrupted in the middle of its transaction ---------------------------


@pytest.fixture
def in_acme(acme):
    with acme:
        yield acme


@contextlib.contextmanager
def stalled_after_insert(table):
    """A real trigger that makes every INSERT into `table` outlive the statement timeout.

    The row is written, then its statement is cancelled by PostgreSQL
    ("canceling statement due to statement timeout"), as a server going away
    mid-transaction would. The trigger lives in the test's transaction and is
    rolled back with it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION fault_stall() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(5); RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER fault_stall AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault_stall()"
        )
        cursor.execute("SET LOCAL statement_timeout = '200ms'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute(f"DROP TRIGGER fault_stall ON {table}")
            cursor.execute("DROP FUNCTION fault_stall()")


def test_a_transition_cut_off_after_its_update_leaves_no_status_change_and_no_bump(
        in_acme, django_capture_on_commit_callbacks):
    from batches import services
    from batches.models import Batch, BatchHistory
    from batches.tests.factories import BatchFactory
    from core.cache import generation

    batch = BatchFactory()
    history_before = BatchHistory.objects.filter(batch=batch).count()
    generation_before = generation("batches")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, stalled_after_insert("batch_history"):
        with pytest.raises(db_errors.OperationalError) as cut:
            services.transition(batch, "grading")

    assert isinstance(cut.value.__cause__, psycopg.errors.QueryCanceled)
    saved = Batch.objects.get(pk=batch.pk)
    assert (saved.status, saved.version) == ("received", batch.version)
    assert BatchHistory.objects.filter(batch=batch).count() == history_before
    assert callbacks == []
    assert generation("batches") == generation_before

    # The same move without the fault writes both rows and bumps: the checks above could have failed.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.transition(batch, "grading")
    assert Batch.objects.get(pk=batch.pk).status == "grading"
    assert BatchHistory.objects.filter(batch=batch).count() == history_before + 1
    assert len(callbacks) >= 1
    assert generation("batches") == generation_before + 1


def test_a_transition_cut_off_in_the_api_is_a_503_and_changes_nothing(in_acme):
    from batches.models import Batch, BatchHistory
    from batches.tests.factories import BatchFactory

    batch = BatchFactory()
    api = in_acme.api_client("Clerk")

    with stalled_after_insert("batch_history"):
        response = api.post(f"/api/batches/{batch.pk}/transition/", {"to_status": "grading"}, format="json")

    # The fault is a statement cancelled by statement_timeout, which has its own 503 (core/views.py).
    assert response.status_code == 503
    assert response.json()["code"] == "statement_timeout"
    assert Batch.objects.get(pk=batch.pk).status == "received"
    assert not BatchHistory.objects.filter(batch=batch, event="status_changed").exists()


def test_a_payment_cut_off_after_its_insert_leaves_no_payment_and_no_side_effects(
        in_acme, django_capture_on_commit_callbacks):
    from core.cache import generation
    from core.tenancy import company_today
    from growers.tests.factories import GrowerFactory
    from payments import services
    from payments.models import GrowerPayment

    grower = GrowerFactory()
    payment = {"grower": grower, "payment_type": "advance", "amount": Decimal("1000.00"),
               "reference": "EFT-FAULT-1", "paid_date": company_today(), "idempotency_key": "fault-1"}
    generation_before = generation("payments")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, stalled_after_insert("grower_payments"):
        with pytest.raises(db_errors.OperationalError):
            services.record_payment(by=in_acme.user("Finance"), **payment)

    assert not GrowerPayment.objects.filter(grower=grower).exists()
    assert callbacks == []  # neither the cache bump nor the audit event
    assert generation("payments") == generation_before

    # A retry with the same Idempotency-Key is not mistaken for a replay of the lost payment.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        saved, created = services.record_payment_once(payment.pop("idempotency_key"), by=in_acme.user("Finance"),
                                                      **payment)
    assert created and saved.amount == Decimal("1000.00")
    assert GrowerPayment.objects.filter(grower=grower).count() == 1
    assert len(callbacks) >= 1
    assert generation("payments") == generation_before + 1


# --- Redis down ----------------------------------------------------------------------



def test_with_redis_down_a_clerk_logs_in_works_and_logs_out(acme):
    """Sessions are in PostgreSQL and the cache is optional: a dead Redis costs no request."""
    from django.test import Client
    from django.test.utils import override_settings

    from batches.models import Batch
    from batches.tests.factories import BatchFactory
    from core.tenancy import company_today
    from growers.tests.factories import GrowerFactory
    from packhouses.tests.factories import PackhouseFactory

    with acme:
        grower, packhouse = GrowerFactory(), PackhouseFactory(code="PH9")
        BatchFactory(grower=grower, packhouse=packhouse)
    with override_settings(CACHES=redis_down_caches()):
        browser = Client(HTTP_HOST=acme.host)
        login = browser.post("/login/", {"username": "clerk@acme.test", "password": "correct-horse-battery"})
        assert login.status_code == 302, login.content
        pages = {path: browser.get(path).status_code for path in ("/", "/batches/", "/growers/", "/api/batches/")}
        assert pages == {"/": 200, "/batches/": 200, "/growers/": 200, "/api/batches/": 200}
        assert browser.post("/logout/").status_code == 302
        assert browser.get("/batches/").status_code == 302  # the session really ended

        api = acme.api_client("Clerk")  # the real token endpoint
        listed = api.get("/api/batches/?limit=5")
        created = api.post("/api/batches/", {
            "grower": grower.pk, "packhouse": packhouse.pk, "fruit_type": "apple", "variety": "Gala",
            "harvest_date": str(company_today()), "bin_count": 10,
            "gross_weight_kg": "4200.50", "tare_weight_kg": "400.00",
        }, format="json")
        assert listed.status_code == 200 and listed.json()["total"] >= 1
        assert created.status_code == 201, created.content
        # The write is visible at once: no stale page came from a cache that could not be told.
        assert api.get("/api/batches/?limit=5").json()["total"] == listed.json()["total"] + 1
    with acme:
        assert Batch.objects.filter(pk=created.json()["id"]).exists()
