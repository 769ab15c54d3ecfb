"""API throttling: anonymous requests per address, authenticated ones per user; 429 with Retry-After.

The suite itself runs with very high rates (fruitpak/settings/test.py);
these tests lower them. The counts live in Redis, which is shared with
earlier tests, so each test uses an address or a user of its own.
"""

import copy
import itertools
import random

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import services
from conftest import PASSWORD
from core.tests.helpers import redis_down_caches

pytestmark = pytest.mark.django_db

# Counts outlive a test run in Redis; addresses new to every run never meet an old count.
_addresses = (f"10.{random.randrange(256)}.{random.randrange(256)}.{n}" for n in itertools.count(1))
_users = itertools.count(1)


def rates(anon=None, user=None):
    config = copy.deepcopy(settings.REST_FRAMEWORK)
    if anon:
        config["DEFAULT_THROTTLE_RATES"]["anon"] = anon
    if user:
        config["DEFAULT_THROTTLE_RATES"]["user"] = user
    return override_settings(REST_FRAMEWORK=config)


def fresh_user_client(tenant):
    """A user nobody else has used, so no earlier request counts against them."""
    email = f"throttle-{next(_users)}-{id(tenant)}@{tenant.schema}.test"
    with tenant:
        services.create_user(email=email, password=PASSWORD, role="Clerk")
    client = APIClient(HTTP_HOST=tenant.host)
    tokens = client.post("/api/auth/login", {"email": email, "password": PASSWORD}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + tokens["access_token"])
    return client


def assert_throttled(response):
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert "throttled" in response.json()["detail"].lower()
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_suite_runs_with_rates_too_high_to_trip():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"anon": "100000/minute", "user": "100000/minute"}


def test_anonymous_requests_are_throttled_per_address(acme):
    client = APIClient(HTTP_HOST=acme.host, REMOTE_ADDR=next(_addresses))
    body = {"email": "clerk@acme.test", "password": PASSWORD}
    with rates(anon="3/minute"):
        for _ in range(3):
            assert client.post("/api/auth/login", body, format="json").status_code == 200

        assert_throttled(client.post("/api/auth/login", body, format="json"))
        assert_throttled(client.post("/api/auth/refresh", {"refresh_token": "x"}, format="json"))
        # Another address is not affected.
        other = APIClient(HTTP_HOST=acme.host, REMOTE_ADDR=next(_addresses))
        assert other.post("/api/auth/login", body, format="json").status_code == 200


def test_authenticated_requests_are_throttled_per_user(acme):
    client = fresh_user_client(acme)
    with rates(user="4/minute"):
        for _ in range(4):
            assert client.get("/api/growers/").status_code == 200

        assert_throttled(client.get("/api/growers/"))
        # Another user (from the same address) still gets through.
        assert fresh_user_client(acme).get("/api/growers/").status_code == 200


def test_throttling_fails_open_when_redis_is_down(acme):
    client = fresh_user_client(acme)
    anonymous = APIClient(HTTP_HOST=acme.host, REMOTE_ADDR=next(_addresses))
    with rates(anon="2/minute", user="2/minute"), override_settings(CACHES=redis_down_caches()):
        for _ in range(5):
            assert client.get("/api/growers/").status_code == 200
            response = anonymous.post("/api/auth/login", {"email": "clerk@acme.test", "password": PASSWORD},
                                      format="json")
            assert response.status_code == 200


def test_a_user_is_one_counter_in_redis_that_lives_one_window(acme):
    from django.core.cache import cache

    from accounts.models import User

    client = fresh_user_client(acme)
    with acme:
        user_id = User.objects.order_by("-id").values_list("id", flat=True)[0]  # the user just made
    key = f"throttle_user_{user_id}"
    with rates(user="3/minute"):
        for _ in range(3):
            assert client.get("/api/growers/").status_code == 200
        refused = client.get("/api/growers/")
    with acme:
        count, ttl = cache.get(key), cache.ttl(key)

    assert_throttled(refused)
    # A number, not DRF's list of request times; it expires with its window, which Retry-After tells.
    assert count == 4 and 0 < ttl <= 60
    assert int(refused["Retry-After"]) in (ttl, ttl + 1)
