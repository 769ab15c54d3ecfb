"""The cached API lists (core.cache.cached) against the real Redis.

Services bump generations in on_commit, and every test runs in a
transaction that is rolled back, so writes are made inside
django_capture_on_commit_callbacks(execute=True): as if they committed.
"""

import re
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from batches.tests.factories import BatchFactory
from core.tests.helpers import redis_down_caches
from growers.services import create_grower
from growers.tests.factories import GrowerFactory
from packhouses.services import create_packhouse
from payments.services import create_price_agreement
from reconciliation.services import refresh_intake_view

ROOT = Path(settings.BASE_DIR)
LISTS = ["/api/growers/", "/api/packhouses/", "/api/prices/"]


def queries_of(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, [query["sql"] for query in captured.captured_queries]


def codes(response):
    return [item["code"] for item in response.json()["items"]]


def apple_price():
    return create_price_agreement(fruit_type="apple", grade="class1", valid_from=date(2026, 1, 1),
                                  price_per_kg=Decimal("5"))


# --- A write is visible on the very next read ------------------------------------------------------


def test_a_grower_made_by_the_service_shows_on_the_next_read(acme, committed):
    api = acme.api_client("Clerk")
    assert codes(api.get("/api/growers/")) == []  # cached, empty

    with acme, committed():
        create_grower(code="G0001", name="Oak Valley")

    assert codes(api.get("/api/growers/")) == ["G0001"]


def test_a_grower_made_and_edited_through_the_api_shows_on_the_next_read(acme, committed):
    reader, manager = acme.api_client("Finance"), acme.api_client("Manager")
    assert reader.get("/api/growers/").json()["total"] == 0

    with committed():
        made = manager.post("/api/growers/", {"code": "G0002", "name": "Rooiberg"}, format="json")
    assert made.status_code == 201
    assert codes(reader.get("/api/growers/")) == ["G0002"]

    with committed():
        assert manager.patch(f"/api/growers/{made.json()['id']}/", {"name": "Rooiberg Farms"},
                             format="json").status_code == 200
    assert reader.get("/api/growers/").json()["items"][0]["name"] == "Rooiberg Farms"


def test_a_grower_made_with_the_html_form_shows_on_the_next_read(acme, committed):
    api = acme.api_client("Clerk")
    assert api.get("/api/growers/?active=true").json()["total"] == 0

    with committed():
        response = acme.client("Manager").post("/growers/new/", {"code": "G0003", "name": "Elgin Hills",
                                                                 "active": "on"})
    assert response.status_code == 302
    assert codes(api.get("/api/growers/?active=true")) == ["G0003"]


def test_a_packhouse_made_by_the_service_and_the_form_shows_on_the_next_read(acme, committed):
    api = acme.api_client("Clerk")
    assert codes(api.get("/api/packhouses/")) == []

    with acme, committed():
        create_packhouse(code="PH1", name="Ceres")
    assert codes(api.get("/api/packhouses/")) == ["PH1"]

    with committed():
        acme.client("Manager").post("/packhouses/new/", {"code": "PH2", "name": "Grabouw", "active": "on"})
    assert codes(api.get("/api/packhouses/")) == ["PH1", "PH2"]


def test_a_price_made_by_the_service_and_the_api_shows_on_the_next_read(acme, committed):
    api = acme.api_client("Finance")
    assert api.get("/api/prices/").json()["total"] == 0

    with acme, committed():
        apple_price()
    assert api.get("/api/prices/").json()["total"] == 1

    with committed():
        assert api.post("/api/prices/", {"fruit_type": "pear", "grade": "class1", "valid_from": "2026-01-01",
                                         "price_per_kg": "7.5000"}, format="json").status_code == 201
    assert sorted(item["fruit_type"] for item in api.get("/api/prices/").json()["items"]) == ["apple", "pear"]


def test_a_rolled_back_write_leaves_the_cached_page_valid(acme):
    """Without a commit there is no bump: the next read is the same cached page, with no list queries."""
    api = acme.api_client("Clerk")
    api.get("/api/growers/")
    with acme:
        create_grower(code="G0009", name="Never committed")  # on_commit never runs in this test

    response, sql = queries_of(api, "/api/growers/")

    assert codes(response) == []
    assert not any("growers" in statement for statement in sql)


# --- Keys: query, tenant, permission scope -----------------------------------------------------------


def test_the_same_query_in_another_order_is_the_same_page(acme):
    with acme:
        GrowerFactory.create_batch(3)
    api = acme.api_client("Clerk")
    first = api.get("/api/growers/?limit=2&offset=1")

    response, sql = queries_of(api, "/api/growers/?offset=1&limit=2")

    assert response.content == first.content
    assert not any("growers" in statement for statement in sql)  # served from the cache


def test_a_different_query_is_a_different_page(acme):
    with acme:
        GrowerFactory.create_batch(3)
    api = acme.api_client("Clerk")
    api.get("/api/growers/?limit=1")

    assert len(api.get("/api/growers/?limit=2").json()["items"]) == 2


@pytest.mark.parametrize("url", LISTS)
def test_another_companys_cached_page_is_never_served_on_its_host(acme, globex, url, committed):
    with acme, committed():
        create_grower(code="ACME1", name="Acme's grower")
        create_packhouse(code="ACME", name="Acme's packhouse")
        apple_price()
    acme_page = acme.api_client("Finance").get(url)
    assert acme_page.json()["total"] == 1

    globex_page, sql = queries_of(globex.api_client("Finance"), url)

    assert globex_page.status_code == 200
    assert globex_page.json()["total"] == 0
    assert globex_page.content != acme_page.content
    assert any("COUNT(*)" in statement for statement in sql)  # globex's own query, not acme's page


def test_cache_keys_carry_the_schema(acme, globex):
    with acme:
        acme_key = cache.make_key("page")
    with globex:
        globex_key = cache.make_key("page")

    assert acme_key.startswith("acme:") and globex_key.startswith("globex:")


def test_roles_do_not_share_cached_pages(acme):
    with acme:
        GrowerFactory()
    acme.api_client("Clerk").get("/api/growers/")

    response, sql = queries_of(acme.api_client("Manager"), "/api/growers/")

    assert response.status_code == 200
    assert any("COUNT(*)" in statement for statement in sql)  # the manager's scope missed the clerk's page


def test_a_forbidden_role_is_refused_even_when_the_page_is_cached(acme):
    assert acme.api_client("Finance").get("/api/prices/").status_code == 200  # cached now

    response = acme.api_client("Clerk").get("/api/prices/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("url", LISTS)
def test_anonymous_gets_401_not_the_cached_page(acme, url):
    assert acme.api_client("Finance").get(url).status_code == 200  # cached now

    response = acme.api_client().get(url)

    assert response.status_code == 401
    assert set(response.json()) >= {"detail", "code"}
    assert "items" not in response.json()


def test_errors_are_not_cached(acme):
    api = acme.api_client("Clerk")
    assert api.get("/api/growers/?limit=zero").status_code == 400

    response = api.get("/api/growers/?limit=zero")

    assert response.status_code == 400  # a cached copy would come back as a 200
    assert "limit" in response.json()["errors"]


# --- What a hit costs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 50, 200])
@pytest.mark.parametrize("credentials", ["bearer token", "session"])
def test_a_cached_hit_costs_the_same_queries_whatever_the_page_size(acme, page_size, credentials):
    with acme:
        GrowerFactory.create_batch(60)
    client = acme.api_client("Clerk") if credentials == "bearer token" else acme.client("Clerk")
    url = f"/api/growers/?limit={page_size}"
    miss = client.get(url)

    response, sql = queries_of(client, url)

    assert response.content == miss.content
    assert response["Content-Type"] == miss["Content-Type"] == "application/json"
    if credentials == "bearer token":
        # core.fastpath.middleware.CachedPageMiddleware: the token's grant and the page come from Redis.
        assert sql == []
    else:
        # The search_path for the company, the session, the user with their permissions. No domain lookup
        # (cached), no permission queries, no list queries.
        assert len(sql) == 3, sql
        assert sql[0].startswith("SET search_path")
        assert '"django_session"' in sql[1] and "auth_permission" in sql[2]


# --- Redis down ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [*LISTS, "/api/growers/?limit=1&offset=1"])
def test_with_redis_down_the_lists_are_the_same_and_nothing_errors(acme, url, committed):
    with acme:
        GrowerFactory.create_batch(3)
        create_packhouse(code="PH1", name="Ceres")
        apple_price()
    api = acme.api_client("Finance")
    with_redis = api.get(url)

    with override_settings(CACHES=redis_down_caches()):
        assert cache.get("anything") is None  # really unreachable: a miss
        without_redis = [api.get(url) for _ in range(2)]
        with committed():
            made = acme.api_client("Manager").post("/api/growers/", {"code": "G0999", "name": "Down"}, format="json")
        after_write = api.get("/api/growers/?q=G0999")

    assert with_redis.status_code == 200
    assert [r.status_code for r in without_redis] == [200, 200]
    assert all(r.content == with_redis.content for r in without_redis)
    assert made.status_code == 201
    assert codes(after_write) == ["G0999"]


def test_with_redis_down_a_hit_is_impossible_but_the_queries_stay_few(acme):
    with acme:
        GrowerFactory()
    api = acme.api_client("Clerk")
    with override_settings(CACHES=redis_down_caches()):
        api.get("/api/growers/")
        response, sql = queries_of(api, "/api/growers/")

    assert response.status_code == 200
    # The domain lookup (SET public + SELECT), then SET company, the user, COUNT and the page.
    assert len(sql) == 6, sql


# --- No KEYS, no delete_pattern ------------------------------------------------------------------------

# The browser tests' harness claims a whole Redis database for its server and empties it with SCAN
# before use; that is test tooling, not the app.
HARNESS_EMPTYING_ITS_OWN_DB = Path("browser/conftest.py")
FORBIDDEN_CALLS = re.compile(r"\b(delete_pattern|iter_keys|scan_iter)\s*\(|\.keys\(\s*['\"]|[\"']KEYS[\"']")


def test_the_source_never_lists_or_deletes_keys_by_pattern():
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0].startswith(".") or relative.parts[0] in {"node_modules", "staticfiles"}:
            continue
        if path == Path(__file__) or relative == HARNESS_EMPTYING_ITS_OWN_DB:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FORBIDDEN_CALLS.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")

    assert offenders == []
    assert FORBIDDEN_CALLS.search("cache.delete_pattern('x*')")  # the pattern does catch a call


class RedisMonitor:
    """Every command the Redis server receives that mentions `marker`, from MONITOR on a connection of its own."""

    def __init__(self, url, marker):
        self.client = redis.Redis.from_url(url)
        self.marker = marker
        self.stop_key = f"{marker}:monitor-stop"
        self.commands = []
        self._ready = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        assert self._ready.wait(5), "MONITOR did not start"
        return self

    def _listen(self):
        with self.client.monitor() as monitor:
            self._ready.set()
            for event in monitor.listen():
                command = event["command"]
                if self.stop_key in command:
                    return
                if self.marker in command:
                    self.commands.append(command)

    def __exit__(self, *exc):
        self.client.get(self.stop_key)
        self._thread.join(5)
        self.client.close()

    def verbs(self):
        return {command.split(" ", 1)[0].upper() for command in self.commands}


def test_a_write_and_read_cycle_sends_only_get_set_and_incr(acme, committed):
    marker = settings.CACHES["default"]["KEY_PREFIX"]  # this test's own (see conftest)
    api = acme.api_client("Clerk")
    manager = acme.api_client("Manager")

    with RedisMonitor(settings.CACHES["default"]["LOCATION"], marker) as monitor:
        api.get("/api/growers/")
        api.get("/api/growers/")
        with committed():
            manager.post("/api/growers/", {"code": "G0500", "name": "Monitored"}, format="json")
        assert codes(api.get("/api/growers/")) == ["G0500"]
        acme.client("Manager").get("/")  # the dashboard too

    assert monitor.commands, "MONITOR saw nothing of this test's keys"
    # GET/MGET to read, SET (NX for add) to store, django-redis's incr: an EVAL of EXISTS + INCRBY, the
    # throttles' INCR with EXPIRE NX (core/throttling.py), and the cached-page script (core/fastpath/answer.lua),
    # which reads with MGET, GET and PTTL and counts with INCR and EXPIRE.
    allowed = {"GET", "MGET", "SET", "EVAL", "EVALSHA", "EXISTS", "INCRBY", "INCR", "EXPIRE", "PTTL"}
    assert monitor.verbs() <= allowed, monitor.commands
    assert {"GET", "MGET", "SET", "EVAL"} <= monitor.verbs()
    assert any("gen:growers" in command for command in monitor.commands if command.upper().startswith("EVAL"))


# --- The dashboard's aggregates (cached_data) ------------------------------------------------------


def test_another_companys_cached_dashboard_is_never_shown(acme, globex, committed):
    with acme, committed():
        BatchFactory()
        refresh_intake_view()
    acme_page = acme.client("Manager").get("/").text
    globex_page = globex.client("Manager").get("/").text

    assert 'data-testid="today-batches">1<' in acme_page
    assert 'data-testid="today-batches">0<' in globex_page


def test_a_cached_dashboard_costs_no_aggregate_query(acme):
    client = acme.client("Manager")
    client.get("/")

    response, sql = queries_of(client, "/")

    assert response.status_code == 200
    assert not any("daily_grower_intake" in statement or '"batches"' in statement for statement in sql), sql
