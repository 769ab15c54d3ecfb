"""Failed HTML logins cost bounded storage, and the login pages are rate-limited per address (issue 14, items 3-4)."""

import copy
import itertools
import random

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from conftest import PASSWORD
from core.tests.helpers import redis_down_caches

pytestmark = pytest.mark.django_db

# Counts outlive a test run in Redis; addresses new to every run never meet an old count.
_addresses = (f"10.{random.randrange(256)}.{random.randrange(256)}.{n}" for n in itertools.count(1))
PAD = "x" * 1000


def test_padded_failures_leave_the_attempt_row_small(acme):
    ip = next(_addresses)
    client = acme.client()
    # High limits, so that all 50 failures are recorded on one row.
    with override_settings(AXES_FAILURE_LIMIT=1000, AXES_ADDRESS_FAILURE_LIMIT=1000, AXES_ACCOUNT_FAILURE_LIMIT=1000):
        for _ in range(50):
            response = client.post(
                f"/login/?next=/&pad={PAD}", {"username": "clerk@acme.test", "password": "wrong", "pad": PAD},
                REMOTE_ADDR=ip,
            )
            assert response.status_code == 200

    with acme:
        attempt = AccessAttempt.objects.get(ip_address=ip)
        assert attempt.failures_since_start == 50
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_column_size(a.*) FROM axes_accessattempt a WHERE id = %s", [attempt.id])
            assert cursor.fetchone()[0] < 2048
    assert attempt.get_data == attempt.post_data == ""


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_login_pages_are_rate_limited_per_address(acme, path):
    ip = next(_addresses)
    client = acme.client()
    with override_settings(LOGIN_THROTTLE_RATE="3/minute"):
        for _ in range(3):
            response = client.post(path, {"username": "clerk@acme.test", "password": "x"}, REMOTE_ADDR=ip)
            assert response.status_code == 200

        refused = client.post(path, {"username": "manager@acme.test", "password": PASSWORD}, REMOTE_ADDR=ip)
        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 60
        assert "Too many login attempts" in refused.text
        assert client.get("/").status_code == 302  # the right password did not log in
        # Viewing the page is not an attempt, and another address is not affected.
        assert client.get(path, REMOTE_ADDR=ip).status_code == 200
        other = client.post(path, {"username": "manager@acme.test", "password": PASSWORD}, REMOTE_ADDR=next(_addresses))
        assert other.status_code == 302
    with acme:
        assert not AccessAttempt.objects.filter(ip_address=ip, username="clerk@acme.test", failures_since_start__gt=3)


def test_the_platform_admin_login_is_rate_limited(db):
    connection.set_schema_to_public()
    client = Client(HTTP_HOST="localhost")
    ip = next(_addresses)
    with override_settings(LOGIN_THROTTLE_RATE="2/minute"):
        for _ in range(2):
            client.post("/admin/login/", {"username": "staff@fruitpak.test", "password": "x"}, REMOTE_ADDR=ip)
        refused = client.post("/admin/login/", {"username": "s@x.test", "password": "x"}, REMOTE_ADDR=ip)
        assert refused.status_code == 429
    connection.set_schema_to_public()


def test_the_login_rate_limit_fails_open_without_redis(acme):
    ip = next(_addresses)
    client = acme.client()
    with override_settings(LOGIN_THROTTLE_RATE="1/minute", CACHES=redis_down_caches()):
        for _ in range(3):
            response = client.post("/login/", {"username": "clerk@acme.test", "password": "x"}, REMOTE_ADDR=ip)
            assert response.status_code == 200


def test_num_proxies_is_the_trusted_proxy_count_zero_included():
    assert settings.TRUSTED_PROXY_COUNT == 0  # the test profile: no proxy in front
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0


def test_a_new_x_forwarded_for_each_time_does_not_escape_the_anonymous_throttle(acme):
    config = copy.deepcopy(settings.REST_FRAMEWORK)
    config["DEFAULT_THROTTLE_RATES"]["anon"] = "60/minute"
    client = APIClient(HTTP_HOST=acme.host, REMOTE_ADDR=next(_addresses))
    with override_settings(REST_FRAMEWORK=config):
        statuses = [
            client.post(
                "/api/auth/refresh", {"refresh_token": "x"}, format="json",
                HTTP_X_FORWARDED_FOR=f"192.0.2.{n % 250}, 198.51.100.{n // 250}",
            ).status_code
            for n in range(70)
        ]

    assert statuses[:60] == [401] * 60
    assert statuses[60:] == [429] * 10


def test_nginx_limits_the_login_pages_too():
    text = (settings.BASE_DIR / "nginx.conf").read_text()

    assert "limit_req_zone $login_limit_key zone=fruitpak_login" in text
    assert "location ~ ^/(admin/)?login/$ {\n            limit_req zone=fruitpak_login" in text
