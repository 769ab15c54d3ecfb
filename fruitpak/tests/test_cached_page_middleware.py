"""Cached API pages answered from Redis alone (core/fastpath/: CachedPageMiddleware and its grants).

The middleware answers a Bearer token's repeated GET of a cached list without the database. These tests
hold it to the full stack: the same bytes and headers, the same refusals, and every way a token or a
permission is taken away counts on the very next request, whoever made the change and however.

Changes are made inside the test's transaction, which never commits: grants are forgotten at the write
itself as well as at the commit, so the next request already sees them gone.
"""

import copy
import dataclasses
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import ApiSession, User
from core import write_watch
from core.cache import generation, page_key, permission_scope
from core.fastpath import grants, middleware
from core.fastpath.formats import HOSTS, grant_key
from core.tests.helpers import redis_down_caches
from growers.tests.factories import GrowerFactory
from tenants.models import Company

GROWERS = "/api/growers/"


def queries_of(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, captured.captured_queries


def answered_from_redis(client, url=GROWERS, **headers):
    """The response, asserting that it took no SQL: the middleware answered it."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    assert captured.captured_queries == [], [query["sql"] for query in captured.captured_queries]
    return response


def warm(tenant, role="Clerk", url=GROWERS):
    """A client whose token has a grant and whose scope has the page cached."""
    client = tenant.api_client(role)
    assert client.get(url).status_code == 200
    answered_from_redis(client, url)
    return client


def test_the_answer_is_the_full_stacks_bytes_and_headers(acme):
    with acme:
        GrowerFactory.create_batch(3)
    client = acme.api_client("Finance")
    full = client.get(GROWERS)

    fast = answered_from_redis(client)

    assert fast.status_code == full.status_code == 200
    assert fast.content == full.content
    # Every header the full stack sends, with the same value: the request id is each request's own.
    full_headers = {name: value for name, value in full.headers.items() if name != "X-Request-ID"}
    fast_headers = {name: value for name, value in fast.headers.items() if name != "X-Request-ID"}
    assert fast_headers == full_headers
    assert {"Allow", "X-Frame-Options", "X-Content-Type-Options", "Content-Security-Policy"} <= set(fast_headers)
    assert fast["X-Request-ID"] and fast["X-Request-ID"] != full["X-Request-ID"]


def test_the_answer_carries_the_clients_request_id_or_a_new_one_as_django_guid_would(acme):
    client = warm(acme)
    given = uuid.uuid4().hex

    echoed = answered_from_redis(client, HTTP_X_REQUEST_ID=given)
    replaced = answered_from_redis(client, HTTP_X_REQUEST_ID="not-a-uuid\r\nInjected: 1")
    fresh = answered_from_redis(client)

    assert echoed["X-Request-ID"] == given
    assert replaced["X-Request-ID"] != "not-a-uuid\r\nInjected: 1" and uuid.UUID(replaced["X-Request-ID"])
    assert uuid.UUID(fresh["X-Request-ID"]) and fresh["X-Request-ID"] != replaced["X-Request-ID"]
    assert "Injected" not in replaced


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/html, application/json;q=0.9", None])
def test_a_client_taking_json_is_answered_from_redis(acme, accept):
    client = warm(acme)
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    assert answered_from_redis(client, **headers).json()["total"] == 0


@pytest.mark.parametrize("accept, query, status", [("text/html", "", 406), (None, "?format=xml", 404)])
def test_what_drf_refuses_is_refused_with_the_page_cached(acme, accept, query, status):
    client = warm(acme)
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    assert client.get(GROWERS + query, **headers).status_code == status


def test_another_query_or_another_role_is_not_answered_from_the_others_page(acme):
    with acme:
        GrowerFactory.create_batch(3)
    clerk = warm(acme, "Clerk")

    _, sql = queries_of(clerk, GROWERS + "?limit=1")
    assert sql  # another query is another page
    _, sql = queries_of(acme.api_client("Manager"), GROWERS)
    assert sql  # another scope is another page


def test_a_companys_token_is_never_answered_on_another_companys_host(acme, globex):
    warm(acme)
    warm(globex)
    token = acme.tokens("Clerk")["access_token"]
    stranger = globex.api_client()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer " + token)

    response = stranger.get(GROWERS)

    assert response.status_code == 401
    assert response.json()["code"] == "wrong_company"


def test_the_same_url_on_each_host_gives_each_companys_own_page(acme, globex):
    with acme:
        GrowerFactory(code="ACME1")
    with globex:
        GrowerFactory(code="GLOBEX1")
    acme_client, globex_client = warm(acme), warm(globex)

    assert [g["code"] for g in answered_from_redis(acme_client).json()["items"]] == ["ACME1"]
    assert [g["code"] for g in answered_from_redis(globex_client).json()["items"]] == ["GLOBEX1"]


def test_an_expired_or_forged_token_is_refused_even_with_the_page_cached(acme):
    warm(acme)
    with acme:
        user = acme.user("Clerk")
        session = ApiSession.objects.filter(user=user, revoked_at__isnull=True).latest("created_at")
    expired = AccessToken()
    expired["user_id"], expired["tenant"], expired["sid"] = user.pk, acme.schema, str(session.id)
    expired["hash_password"] = AccessToken.for_user(user)["hash_password"]
    expired.set_exp(lifetime=-timedelta(seconds=1))
    for token in (str(expired), str(expired)[:-4] + "AAAA"):
        client = acme.api_client()
        client.credentials(HTTP_AUTHORIZATION="Bearer " + token)
        response = client.get(GROWERS)
        assert response.status_code == 401
        assert "items" not in response.json()


def test_anonymous_is_refused_with_the_page_cached(acme):
    warm(acme)
    response = acme.api_client().get(GROWERS, HTTP_AUTHORIZATION="Basic Y2xlcms6eA==")
    assert response.status_code == 401


# --- Every way of taking a token or a permission away counts on the very next request --------------------


def revoke_by_logout(acme, client, user):
    assert client.post("/api/auth/logout").status_code == 204


def revoke_by_deactivation(acme, client, user):
    services.deactivate_user(user)


def revoke_by_password_service(acme, client, user):
    services.set_password(user, "an-entirely-new-password-1")


def revoke_by_queryset_update_of_the_user(acme, client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)


def revoke_by_queryset_update_of_the_sessions(acme, client, user):
    ApiSession.objects.filter(user=user).update(revoked_at=timezone.now())


def revoke_by_raw_sql(acme, client, user):
    with connection.cursor() as cursor:
        cursor.execute("update accounts_user set password = 'x' where id = %s", [user.pk])


def revoke_by_deleting_the_user(acme, client, user):
    user.delete()


def revoke_by_password_save(acme, client, user):
    user.set_password("another-new-password-22")
    user.save()


REVOCATIONS = [
    revoke_by_logout, revoke_by_deactivation, revoke_by_password_service, revoke_by_queryset_update_of_the_user,
    revoke_by_queryset_update_of_the_sessions, revoke_by_raw_sql, revoke_by_deleting_the_user,
    revoke_by_password_save,
]


@pytest.mark.parametrize("revoke", REVOCATIONS, ids=lambda revoke: revoke.__name__)
def test_a_revoked_token_is_refused_on_the_next_request(acme, revoke):
    client = warm(acme)
    user = acme.user("Clerk")

    with acme:
        revoke(acme, client, user)

    response = client.get(GROWERS)
    assert response.status_code == 401
    assert "items" not in response.json()


def withdraw_by_leaving_the_group(acme, user):
    user.groups.clear()


def withdraw_from_the_group_through_the_admins_m2m(acme, user):
    Group.objects.get(name="Clerk").permissions.remove(Permission.objects.get(codename="view_grower"))


def withdraw_by_deleting_the_group(acme, user):
    Group.objects.get(name="Clerk").delete()


def withdraw_by_queryset_delete_of_the_grant(acme, user):
    Group.permissions.through.objects.filter(group__name="Clerk", permission__codename="view_grower").delete()


WITHDRAWALS = [
    withdraw_by_leaving_the_group, withdraw_from_the_group_through_the_admins_m2m, withdraw_by_deleting_the_group,
    withdraw_by_queryset_delete_of_the_grant,
]


@pytest.mark.parametrize("withdraw", WITHDRAWALS, ids=lambda withdraw: withdraw.__name__)
def test_a_withdrawn_permission_is_refused_on_the_next_request(acme, withdraw):
    client = warm(acme)

    with acme:
        withdraw(acme, acme.user("Clerk"))

    response = client.get(GROWERS)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_committed_revocation_retires_the_grant_a_racing_request_made_before_it(acme, committed):
    """A request reads the generations, asks the database (yes), and only writes its grant after a logout commits."""
    client = warm(acme)
    with acme:
        token = AccessToken(client._credentials["HTTP_AUTHORIZATION"].split()[1])
        before = grants.read(token)
        hosts_generation = acme_hosts_generation(acme)
        user = acme.user("Clerk")
        user._perm_cache = {"growers.view_grower"}
        with committed():
            services.revoke_api_session(ApiSession.objects.get(id=token["sid"]), "test")
        # The racing request's late write, with what it read before the commit.
        grants.remember(token, user, dataclasses.replace(before, grant=None), hosts_generation=hosts_generation,
                        hostname=acme.host)

    response, sql = queries_of(client, GROWERS)

    assert response.status_code == 401
    assert sql  # the full stack answered


def test_a_grant_made_before_a_company_is_suspended_does_not_answer(acme):
    client = warm(acme)
    connection.set_schema_to_public()
    Company.objects.filter(pk=acme.company.pk).update(is_active=False)  # no bump: the cached host still says active
    with acme:
        token = AccessToken(client._credentials["HTTP_AUTHORIZATION"].split()[1])
        stale_hosts_generation = acme_hosts_generation(acme)
    acme.company.refresh_from_db()
    acme.company.save()  # the bump, as the admin's save makes it

    response = client.get(GROWERS)

    assert response.status_code == 404
    with acme:
        assert stale_hosts_generation != acme_hosts_generation(acme)
        assert token["tenant"] == acme.schema


def acme_hosts_generation(acme):
    with schema_context(get_public_schema_name()):
        return generation(HOSTS)


def test_an_unchanged_grant_is_read_but_not_written_again(acme):
    client = acme.api_client("Clerk")
    assert client.get("/api/growers/?limit=1").status_code == 200  # the full stack, which makes the grant
    with acme:
        token = AccessToken(client._credentials["HTTP_AUTHORIZATION"].split()[1])
        key = cache.client.make_key(grant_key(token["sid"]))
    raw = raw_redis()
    assert raw.ttl(key) > 0
    raw.persist(key)  # a rewrite would give it its TTL again

    assert client.get("/api/growers/?limit=2").status_code == 200  # another page: the full stack again

    assert raw.ttl(key) == -1


def test_only_cached_lists_make_grants(acme):
    client = acme.api_client("Clerk")
    with acme:
        token = AccessToken(client._credentials["HTTP_AUTHORIZATION"].split()[1])
        key = cache.client.make_key(grant_key(token["sid"]))

    assert client.get("/api/batches/").status_code == 200
    assert not raw_redis().exists(key)
    assert client.get(GROWERS).status_code == 200
    assert raw_redis().exists(key)


def test_a_new_login_keeps_the_other_sessions_grants(acme):
    client = warm(acme)

    acme.tokens("Clerk")  # inserts an API session
    acme.tokens("Manager")

    answered_from_redis(client)


@pytest.mark.parametrize("sql, changes", [
    ('SELECT "accounts_user"."id" FROM "accounts_user"', False),
    ('SET search_path = "acme","public"', False),
    ('INSERT INTO "accounts_apisession" ("id", "user_id") VALUES (%s, %s)', False),
    ('INSERT INTO "accounts_user" ("password") VALUES (%s)', False),
    ('INSERT INTO "accounts_user_groups" ("user_id", "group_id") VALUES (%s, %s)', True),
    ('UPDATE "accounts_apisession" SET "revoked_at" = %s', True),
    ("update accounts_user set is_active = false", True),
    ('DELETE FROM "auth_group_permissions" WHERE "id" IN (%s)', True),
    ('UPDATE "django_content_type" SET "model" = %s', True),
    ('WITH doomed AS (SELECT 1) DELETE FROM "accounts_apisession"', True),
    ('UPDATE "growers_grower" SET "name" = %s', False),
    ('UPDATE "accounts_user_whatever_else" SET "x" = 1', False),
])
def test_which_statements_retire_grants(sql, changes):
    grants_watches = [watched for watched in write_watch._watches if watched.on_write.__module__ == grants.__name__]

    assert (not write_watch.is_read(sql) and any(watched.written_by(sql) for watched in grants_watches)) is changes


# --- The process's own copies of pages -------------------------------------------------------------------


def growers_page_key(tenant, role="Clerk"):
    """The Redis key of the growers page for `role`, as the full stack stores it."""
    with tenant:
        scope = permission_scope(tenant.user(role))
        return cache.client.make_key(page_key(("growers",), RequestFactory().get(GROWERS), scope))


def raw_redis():
    return cache.client.get_client(write=True)


def test_a_repeated_page_comes_from_the_process_copy_once_redis_has_vouched_for_it(acme):
    client = warm(acme)  # the second request fetched the page and kept a copy
    # The bytes are gone from Redis, but the key is still the current one.
    assert raw_redis().delete(growers_page_key(acme)) == 1

    again = answered_from_redis(client)

    assert again.status_code == 200 and again.json()["total"] == 0


def test_a_process_copy_lives_no_longer_than_the_redis_entry_it_came_from(acme):
    client = acme.api_client("Clerk")
    assert client.get(GROWERS).status_code == 200  # the full stack stores the page
    assert raw_redis().pexpire(growers_page_key(acme), 300)
    answered_from_redis(client)  # fetched with 0.3 s left, and kept as long

    time.sleep(0.4)
    response, sql = queries_of(client, GROWERS)

    assert response.status_code == 200
    assert sql  # neither Redis nor the process had it: the full stack answered


def test_a_fault_in_the_shortcut_is_logged_and_the_full_stack_answers(acme, monkeypatch, caplog):
    client = warm(acme)

    def broken(raw_token):
        raise RuntimeError("a bug")

    monkeypatch.setattr(middleware, "signature_checked", broken)
    response, sql = queries_of(client, GROWERS)

    assert response.status_code == 200 and response.json()["total"] == 0
    assert sql  # the full stack
    assert "not answered before the stack" in caplog.text and "a bug" in caplog.text


def test_a_script_redis_has_forgotten_is_sent_again(acme):
    client = warm(acme)
    raw_redis().script_flush()

    answered_from_redis(client)


# --- Throttles and Redis ---------------------------------------------------------------------------------


def test_requests_answered_from_redis_are_throttled_and_counted_once(acme):
    client = warm(acme)  # two requests counted
    with acme:
        key = f"throttle_user_{acme.user('Clerk').pk}"
    config = copy.deepcopy(settings.REST_FRAMEWORK)
    config["DEFAULT_THROTTLE_RATES"]["user"] = "4/minute"
    with override_settings(REST_FRAMEWORK=config):
        answered_from_redis(client)
        answered_from_redis(client)  # the 3rd and 4th
        refused = client.get(GROWERS)
    with acme:
        count = cache.get(key)

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert count == 5  # one count per request, the refused one included, never two


def test_with_redis_down_the_full_stack_answers_as_before(acme):
    client = warm(acme)
    cached = client.get(GROWERS)

    with override_settings(CACHES=redis_down_caches()):
        response, sql = queries_of(client, GROWERS)

    assert response.status_code == 200
    assert response.content == cached.content
    assert sql  # nothing came from Redis


def test_a_suspended_company_is_not_answered_from_redis(acme):
    client = warm(acme)
    connection.set_schema_to_public()
    acme.company.is_active = False
    acme.company.save()

    response = client.get(GROWERS)

    assert response.status_code == 404
