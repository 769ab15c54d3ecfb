import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.tests.helpers import redis_down_caches


@pytest.mark.parametrize("host", ["acme.localhost", "localhost", "nobody.example", "evil.localhost"])
def test_health_answers_on_any_host_without_the_database(client, host):
    # No django_db mark: touching the database here would raise.
    response = client.get("/health", HTTP_HOST=host)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_refuses_post(client):
    assert client.post("/health", HTTP_HOST="localhost").status_code == 405


@pytest.mark.django_db
def test_health_makes_no_query(client):
    with CaptureQueriesContext(connection) as queries:
        client.get("/health", HTTP_HOST="nobody.example")

    assert len(queries) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["acme.localhost", "nobody.example"])
def test_ready_reports_both_parts_up(client, host):
    response = client.get("/health/ready", HTTP_HOST=host)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.django_db
def test_ready_is_503_and_names_redis_when_redis_is_unreachable(client):
    with override_settings(CACHES=redis_down_caches()):
        response = client.get("/health/ready", HTTP_HOST="acme.localhost")

    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["redis"]
    assert body["checks"] == {"database": "ok", "redis": "down"}


@pytest.mark.django_db
def test_pages_are_served_when_redis_is_unreachable(acme):
    with override_settings(CACHES=redis_down_caches()):
        assert cache.get("anything") is None  # a miss, not an error
        cache.set("anything", 1)
        response = acme.client("Clerk").get("/")

    assert response.status_code == 200
    assert "Acme Fruit" in response.text
