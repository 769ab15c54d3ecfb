"""Grants retired per user and per session (core/fastpath/grants.py), and the switch that turns the fast path off.

A revocation made by the accounts services retires the grants of the user or the session it concerns: every
other token's next GET of a cached list is still answered from Redis with no SQL. A write outside any scope,
or to what many users share (a group's permissions), retires every grant of the company, as before.
Writes run inside committed(): both bumps, at the write and after the commit, are the scoped ones.
"""

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import ApiSession, User
from core.fastpath.formats import grant_key, session_generation_key, user_generation_key
from core.fastpath.grants import GRANT_TTL, retiring
from fruitpak.tests.test_cached_lists import RedisMonitor

GROWERS = "/api/growers/"


def sql_of(client, url=GROWERS):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, [query["sql"] for query in captured.captured_queries]


def answered_from_redis(client):
    response, sql = sql_of(client)
    assert response.status_code == 200
    assert sql == []
    return response


def token_client(tenant, access_token):
    client = APIClient(HTTP_HOST=tenant.host)
    client.credentials(HTTP_AUTHORIZATION="Bearer " + access_token)
    return client


def warm(tenant, access_token):
    """A client of this token with a grant and the page cached: its next GET comes from Redis."""
    client = token_client(tenant, access_token)
    assert client.get(GROWERS).status_code == 200
    answered_from_redis(client)
    return client


def logout(tenant, user, client):
    assert client.post("/api/auth/logout").status_code == 204


def password_change(tenant, user, client):
    services.set_password(user, "an-entirely-new-password-1")


def deactivation(tenant, user, client):
    services.deactivate_user(user)


def role_change(tenant, user, client):
    services.set_role(user, "Finance")


REVOCATIONS = [logout, password_change, deactivation, role_change]


@pytest.mark.parametrize("revoke", REVOCATIONS, ids=lambda revoke: revoke.__name__)
def test_a_users_revocation_retires_their_grants_and_no_one_elses(acme, committed, revoke):
    a = warm(acme, acme.tokens("Clerk")["access_token"])
    b = warm(acme, acme.tokens("Finance")["access_token"])
    manager = warm(acme, acme.tokens("Manager")["access_token"])

    with acme, committed():
        revoke(acme, acme.user("Clerk"), a)

    answered_from_redis(b)
    answered_from_redis(manager)
    response, sql = sql_of(a)
    assert sql  # the full stack answered A: its grant is gone
    assert response.status_code == (200 if revoke is role_change else 401)


def test_a_refresh_retires_only_its_own_sessions_grant(acme, committed):
    first, second = acme.tokens("Clerk"), acme.tokens("Clerk")  # one user, two API sessions
    one, two = warm(acme, first["access_token"]), warm(acme, second["access_token"])

    with committed():
        refreshed = APIClient(HTTP_HOST=acme.host).post(
            "/api/auth/refresh", {"refresh_token": first["refresh_token"]}, format="json")
    assert refreshed.status_code == 200

    answered_from_redis(two)
    response, sql = sql_of(one)
    assert response.status_code == 200 and sql  # still a valid token, but its grant was retired
    warm(acme, refreshed.json()["access_token"])


def test_a_browser_login_retires_no_one_elses_grant(acme, committed):
    client = warm(acme, acme.tokens("Clerk")["access_token"])

    with committed():
        acme.client("Manager")  # logs in: Django updates the manager's last_login

    answered_from_redis(client)


def write_outside_any_scope(user):
    User.objects.filter(pk=user.pk).update(full_name="Renamed by an update")


def write_to_a_group_inside_a_users_scope(user):
    with retiring(user_id=user.pk):
        Group.objects.get(name="Finance").permissions.remove(Permission.objects.get(codename="view_packhouse"))


def write_to_a_user_inside_a_sessions_scope(user):
    with retiring(session_id=ApiSession.objects.filter(user=user).first().id):
        User.objects.filter(pk=user.pk).update(is_staff=True)


@pytest.mark.parametrize("write", [
    write_outside_any_scope, write_to_a_group_inside_a_users_scope, write_to_a_user_inside_a_sessions_scope,
], ids=lambda write: write.__name__)
def test_a_write_no_scope_covers_retires_every_grant_of_the_company(acme, committed, write):
    a = warm(acme, acme.tokens("Clerk")["access_token"])
    b = warm(acme, acme.tokens("Finance")["access_token"])

    with acme, committed():
        write(acme.user("Clerk"))

    for client in (a, b):
        response, sql = sql_of(client)
        assert response.status_code == 200 and sql


@pytest.mark.parametrize("scoped_key, claim", [(user_generation_key, "user_id"), (session_generation_key, "sid")],
                         ids=["user", "session"])
def test_a_scoped_generation_redis_lost_matches_no_grant(acme, scoped_key, claim):
    """Expired or evicted (volatile-lru evicts keys with a TTL): the grant stops counting, it never comes back."""
    token = AccessToken(acme.tokens("Clerk")["access_token"])
    client = warm(acme, str(token))
    with acme:
        lost = cache.client.make_key(scoped_key(token[claim]))
    assert cache.client.get_client(write=True).delete(lost) == 1

    response, sql = sql_of(client)
    assert response.status_code == 200 and sql  # the full stack, which draws a new generation and a new grant
    answered_from_redis(client)


def test_a_retiring_scope_names_one_user_or_one_session():
    with pytest.raises(TypeError):
        with retiring():
            pass
    with pytest.raises(TypeError):
        with retiring(user_id=1, session_id="s"):
            pass


# --- Writes made outside Django ----------------------------------------------------------------------


def test_a_write_made_outside_django_reaches_cached_pages_when_the_grant_expires(acme):
    """psql is not seen; the grant, which lives GRANT_TTL seconds at most, is the bound."""
    token = acme.tokens("Clerk")["access_token"]
    client = warm(acme, token)
    with acme:
        grant = cache.client.make_key(grant_key(AccessToken(token)["sid"]))
    redis = cache.client.get_client(write=True)
    assert 0 < redis.ttl(grant) <= GRANT_TTL
    database = connection.settings_dict
    outside = psycopg.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                              password=database["PASSWORD"], dbname=database["NAME"], autocommit=True)
    deactivate = f'UPDATE "{acme.schema}".accounts_user SET is_active = %s WHERE email = %s'
    try:
        outside.execute("SET lock_timeout = '5s'")
        assert outside.execute(deactivate, [False, acme.user("Clerk").email]).rowcount == 1

        answered_from_redis(client)  # the grant still stands
        redis.delete(grant)  # as when its lifetime is over
        assert client.get(GROWERS).status_code == 401
    finally:
        outside.execute(deactivate, [True, acme.user("Clerk").email])
        outside.close()


# --- CACHED_PAGE_FAST_PATH -----------------------------------------------------------------------------


@pytest.mark.parametrize("fast_path", [True, False], ids=["on", "off"])
def test_either_way_a_repeated_get_is_served_from_the_cache(acme, fast_path):
    marker = settings.CACHES["default"]["KEY_PREFIX"]  # this test's own (see conftest)
    with override_settings(CACHED_PAGE_FAST_PATH=fast_path), \
            RedisMonitor(settings.CACHES["default"]["LOCATION"], marker) as monitor:
        token = acme.tokens("Clerk")["access_token"]
        client = token_client(acme, token)
        first, missed = sql_of(client)
        again, sql = sql_of(client)
    with acme:
        grant = cache.client.make_key(grant_key(AccessToken(token)["sid"]))

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert {k: v for k, v in again.headers.items() if k != "X-Request-ID"} == {
        k: v for k, v in first.headers.items() if k != "X-Request-ID"}
    assert any('FROM "growers"' in statement for statement in missed)
    scripts_run = {"EVAL", "EVALSHA"} & {command.split(" ", 1)[0].upper() for command in monitor.commands}
    if fast_path:
        assert sql == []
        assert scripts_run
    else:
        # Through DRF: the company's search_path and the token's user, not the list's queries.
        assert len(sql) == 2, sql
        assert not any('FROM "growers"' in statement for statement in sql)
        assert not scripts_run  # the Lua script never ran
        assert not cache.client.get_client().exists(grant)  # no grants: nothing would read them


def test_a_page_the_view_stored_is_never_answered_before_the_stack(acme):
    """Off, pages carry DRF's headers only; turned on again, the middleware must not answer them."""
    token = acme.tokens("Clerk")["access_token"]
    warm(acme, token)  # on: a grant, and the page as the middleware stores it
    with override_settings(CACHED_PAGE_FAST_PATH=False):
        assert token_client(acme, token).get(GROWERS + "?limit=7").status_code == 200  # stored by the view

    response, sql = sql_of(token_client(acme, token), GROWERS + "?limit=7")

    assert response.status_code == 200
    assert any('FROM "growers"' in statement for statement in sql)
    assert "X-Frame-Options" in response.headers
