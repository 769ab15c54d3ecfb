"""Bearer authentication in one query: the user, the session check and the permissions together.

Nothing about the user is cached between requests, so every revocation
(logout, deactivation, a new password, a changed role or permission) counts
on the very next request.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.authentication import TenantJWTAuthentication


def queries(client, method, path, **kwargs):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, **kwargs)
    return response, [query["sql"] for query in captured.captured_queries]


def auth_queries(sql):
    return [s for s in sql if '"accounts_user"' in s or '"auth_permission"' in s or '"django_session"' in s]


def test_a_bearer_request_loads_user_session_and_permissions_in_one_query(acme):
    api = acme.api_client("Manager")
    api.get("/api/batches/")  # not a cached list: CachedPageMiddleware would answer that with no query at all

    response, sql = queries(api, "get", "/api/batches/")

    assert response.status_code == 200
    assert len(auth_queries(sql)) == 1, sql


def test_permissions_loaded_with_the_user_are_the_roles(acme):
    for role in ("Clerk", "Finance", "Manager"):
        token = AccessToken(acme.tokens(role)["access_token"])
        with acme:
            loaded = TenantJWTAuthentication().get_user(token)
            expected = acme.user(role).get_all_permissions()  # ModelBackend's own two queries

        assert loaded.get_all_permissions() == expected
        assert expected  # every role has some


def test_a_changed_role_counts_on_the_next_request(acme):
    api = acme.api_client("Manager")
    body = {"code": "PH9", "name": "Wolseley"}
    assert api.get("/api/packhouses/").status_code == 200
    with acme:
        acme.user("Manager").groups.set([Group.objects.get(name="Clerk")])

    assert api.post("/api/packhouses/", body, format="json").status_code == 403
    assert api.get("/api/packhouses/").status_code == 200  # clerks still read


@pytest.mark.parametrize("credentials", ["bearer token", "session"])
def test_a_permission_taken_from_the_role_counts_on_the_next_request(acme, credentials):
    client = acme.api_client("Finance") if credentials == "bearer token" else acme.client("Finance")
    assert client.get("/api/prices/").status_code == 200
    with acme:
        Group.objects.get(name="Finance").permissions.remove(Permission.objects.get(codename="view_priceagreement"))

    assert client.get("/api/prices/").status_code == 403


def test_a_permission_given_to_the_user_counts_on_the_next_request(acme):
    api = acme.api_client("Clerk")
    assert api.get("/api/prices/").status_code == 403
    with acme:
        acme.user("Clerk").user_permissions.add(Permission.objects.get(codename="view_priceagreement"))

    assert api.get("/api/prices/").status_code == 200


def test_revocations_count_on_the_next_request_even_on_a_cached_page(acme):
    for revoke in (
        lambda user: services.deactivate_user(user),
        lambda user: services.set_password(user, "a-brand-new-passphrase"),
    ):
        api = acme.api_client("Finance")
        assert api.get("/api/growers/").status_code == 200
        assert api.get("/api/growers/").status_code == 200  # a cache hit
        with acme:
            user = acme.user("Finance")
            revoke(user)

        assert api.get("/api/growers/").status_code == 401
        with acme:
            services.ensure_user(email=user.email, password="correct-horse-battery", role="Finance")


def test_logout_counts_on_the_next_request_even_on_a_cached_page(acme):
    tokens = acme.tokens("Finance")
    api = acme.api_client()
    api.credentials(HTTP_AUTHORIZATION="Bearer " + tokens["access_token"])
    assert api.get("/api/growers/").status_code == 200
    assert api.get("/api/growers/").status_code == 200  # a cache hit

    assert api.post("/api/auth/logout", {"refresh_token": tokens["refresh_token"]}, format="json").status_code == 204

    assert api.get("/api/growers/").status_code == 401


def test_a_session_user_arrives_with_their_permissions(acme):
    """UserWithPermissionsBackend: a cached list with a session cookie is the SET, the session and the user."""
    browser = acme.client("Clerk")
    browser.get("/api/growers/")

    response, sql = queries(browser, "get", "/api/growers/")

    assert response.status_code == 200
    assert len(sql) == 3, sql
    assert sql[0].startswith("SET search_path") and '"django_session"' in sql[1]
    assert '"accounts_user"' in sql[2] and "auth_permission" in sql[2]


