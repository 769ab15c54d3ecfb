"""Brute force: django-axes locks a login out per (account, address), per address and per account, on the HTML
page and the API. The policy's own tests (known addresses, no extension during lockout, unlock) are in
test_lockout_policy.py.

The attempts live in each company's schema (database handler), so one
company's lockout never touches another's, and Redis plays no part.
"""

import datetime as dt
import itertools

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from conftest import PASSWORD
from core.clients import client_ip_address
from core.tests.helpers import redis_down_caches

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
# Redis on a port where nothing listens: every cache call fails at once.
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def new_address():
    return next(_addresses)


def html_login(tenant, email, password, ip="127.0.0.1"):
    client = tenant.client()
    response = client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)
    return client, response


def api_login(tenant, email, password, ip="127.0.0.1"):
    return APIClient(HTTP_HOST=tenant.host).post(
        "/api/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip,
    )


def fail_html(tenant, email, times, ip=None):
    for _ in range(times):
        _, response = html_login(tenant, email, WRONG, ip or new_address())
        assert response.status_code in (200, 429)


def assert_html_locked(response, client):
    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "Too many failed logins" in response.text
    assert client.get("/").status_code == 302  # nobody logged in


def assert_api_locked(response):
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "locked_out"
    assert "Too many failed logins" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    assert "access_token" not in response.json()


def test_account_locks_after_the_account_limit_from_any_address(acme):
    limit = settings.AXES_ACCOUNT_FAILURE_LIMIT
    fail_html(acme, "clerk@acme.test", limit - 1)

    client, response = html_login(acme, "clerk@acme.test", WRONG, new_address())
    assert_html_locked(response, client)

    # Even the right password, from yet another address, is refused now.
    client, response = html_login(acme, "clerk@acme.test", PASSWORD, new_address())
    assert_html_locked(response, client)


def test_one_failure_below_the_limit_the_right_password_still_works(acme):
    ip = new_address()
    fail_html(acme, "clerk@acme.test", settings.AXES_FAILURE_LIMIT - 1, ip)

    client, response = html_login(acme, "clerk@acme.test", PASSWORD, ip)

    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_success_does_not_reset_the_count(acme):
    ip = new_address()
    fail_html(acme, "clerk@acme.test", settings.AXES_FAILURE_LIMIT - 1, ip)
    assert html_login(acme, "clerk@acme.test", PASSWORD, ip)[1].status_code == 302

    client, response = html_login(acme, "clerk@acme.test", WRONG, ip)

    assert_html_locked(response, client)


def test_the_email_counts_case_insensitively(acme):
    ip = new_address()
    for n in range(settings.AXES_FAILURE_LIMIT):
        email = "clerk@acme.test".upper() if n % 2 else " Clerk@Acme.Test"
        html_login(acme, email, WRONG, ip)

    client, response = html_login(acme, "clerk@acme.test", PASSWORD, ip)

    assert_html_locked(response, client)


def test_an_address_locks_after_the_address_limit_whatever_the_accounts(acme):
    ip = new_address()
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        html_login(acme, f"guess{n}@acme.test", WRONG, ip)

    client, response = html_login(acme, "finance@acme.test", PASSWORD, ip)
    assert_html_locked(response, client)

    # The same account from another address is fine: only that address is locked.
    client, response = html_login(acme, "finance@acme.test", PASSWORD, new_address())
    assert response.status_code == 302


def test_the_api_login_locks_per_account(acme):
    for _ in range(settings.AXES_ACCOUNT_FAILURE_LIMIT - 1):
        assert api_login(acme, "finance@acme.test", WRONG, new_address()).status_code == 401

    assert_api_locked(api_login(acme, "finance@acme.test", WRONG, new_address()))
    assert_api_locked(api_login(acme, "finance@acme.test", PASSWORD, new_address()))


def test_the_api_login_locks_per_address(acme):
    ip = new_address()
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        api_login(acme, f"guess{n}@acme.test", WRONG, ip)

    assert_api_locked(api_login(acme, "manager@acme.test", PASSWORD, ip))
    assert api_login(acme, "manager@acme.test", PASSWORD, new_address()).status_code == 200


def test_failures_on_the_api_lock_the_html_page_too(acme):
    ip = new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, ip)

    client, response = html_login(acme, "clerk@acme.test", PASSWORD, ip)

    assert_html_locked(response, client)


def test_the_same_email_on_the_other_company_is_not_locked(acme, globex):
    for tenant in (acme, globex):
        with tenant:
            services.create_user(email="shared@example.test", password=PASSWORD, role="Clerk")
    ip = new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        html_login(acme, "shared@example.test", WRONG, ip)
    assert_api_locked(api_login(acme, "shared@example.test", PASSWORD, ip))

    # Same email, same address, other company: its attempts table is its own.
    client, response = html_login(globex, "shared@example.test", PASSWORD, ip)
    assert response.status_code == 302
    assert api_login(globex, "shared@example.test", PASSWORD, ip).status_code == 200
    with globex:
        assert not AccessAttempt.objects.exists()


def test_the_lockout_needs_no_redis(acme):
    ip = new_address()
    with override_settings(CACHES=redis_down_caches()):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            html_login(acme, "clerk@acme.test", WRONG, ip)

        client, response = html_login(acme, "clerk@acme.test", PASSWORD, ip)
        assert_html_locked(response, client)
        assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, ip))


def test_a_lockout_made_with_redis_holds_when_redis_goes(acme):
    ip = new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, ip)

    with override_settings(CACHES=redis_down_caches()):
        assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, ip))


def test_the_lockout_ends_after_the_cool_off(acme):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        html_login(acme, "clerk@acme.test", WRONG, new_address())
    with acme:
        AccessAttempt.objects.update(
            attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1),
        )

    client, response = html_login(acme, "clerk@acme.test", PASSWORD, new_address())

    assert response.status_code == 302


def test_the_limit_comes_from_settings(acme):
    ip = new_address()
    with override_settings(AXES_FAILURE_LIMIT=2):
        api_login(acme, "clerk@acme.test", WRONG, ip)
        assert_api_locked(api_login(acme, "clerk@acme.test", WRONG, ip))


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is the client's claim, ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a forged entry on the left changes nothing
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (1, "", "10.0.0.2"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip_address(request) == expected


def test_the_platform_admin_login_on_the_public_host_locks_too(db):
    from django.db import connection
    from django.test import Client

    connection.set_schema_to_public()
    client = Client(HTTP_HOST="localhost")
    ip = new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/admin/login/", {"username": "staff@fruitpak.test", "password": WRONG}, REMOTE_ADDR=ip)

    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    connection.set_schema_to_public()
    assert AccessAttempt.objects.filter(ip_address=ip).exists()  # in the public schema's own table
