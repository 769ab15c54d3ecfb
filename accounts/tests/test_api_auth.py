import datetime as dt

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def bearer(tenant, access):
    client = APIClient(HTTP_HOST=tenant.host)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(tenant, refresh_token):
    return APIClient(HTTP_HOST=tenant.host).post("/api/auth/refresh", {"refresh_token": refresh_token}, format="json")


def test_login_returns_a_bearer_pair(acme):
    tokens = acme.tokens("Clerk")

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60
    assert bearer(acme, tokens["access_token"]).get("/api/growers/").status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "clerk@acme.test", "password": "wrong-password"}, 401),
        ({"email": "nobody@acme.test", "password": PASSWORD}, 401),
        ({"email": "not-an-email", "password": PASSWORD}, 400),
        ({"email": "clerk@acme.test"}, 400),
        ({}, 400),
    ],
)
def test_bad_logins_are_refused_with_json(acme, body, status):
    response = APIClient(HTTP_HOST=acme.host).post("/api/auth/login", body, format="json")

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert "access_token" not in response.json()


def test_acme_user_cannot_log_in_on_globex(globex):
    response = APIClient(HTTP_HOST=globex.host).post(
        "/api/auth/login", {"email": "clerk@acme.test", "password": PASSWORD}, format="json",
    )

    assert response.status_code == 401


def test_acme_token_is_refused_on_globex_even_with_the_same_user_id(acme, globex):
    assert acme.user("Manager").pk == globex.user("Manager").pk  # the same id exists on both sides
    tokens = acme.tokens("Manager")

    response = bearer(globex, tokens["access_token"]).get("/api/growers/")

    assert response.status_code == 401
    assert response.json()["code"] == "wrong_company"
    assert refresh(globex, tokens["refresh_token"]).status_code == 401


def test_anonymous_gets_401_with_a_bearer_challenge(acme):
    response = APIClient(HTTP_HOST=acme.host).get("/api/batches/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer", "Bearer not.a.jwt", "Bearer a b", "Basic Zm9vOmJhcg=="])
def test_malformed_credentials_are_401(acme, header):
    client = APIClient(HTTP_HOST=acme.host)
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get("/api/batches/").status_code == 401


def test_expired_access_token_is_401(acme):
    tokens = acme.tokens("Clerk")
    token = AccessToken(tokens["access_token"])
    token.set_exp(lifetime=-dt.timedelta(seconds=1))

    assert bearer(acme, str(token)).get("/api/growers/").status_code == 401


def test_refresh_rotates_and_each_refresh_token_works_once(acme):
    first = acme.tokens("Clerk")

    second = refresh(acme, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert bearer(acme, second["access_token"]).get("/api/growers/").status_code == 200

    replay = refresh(acme, first["refresh_token"])
    assert replay.status_code == 401
    # Reuse revokes the whole session: the newer tokens die too.
    assert bearer(acme, second["access_token"]).get("/api/growers/").status_code == 401
    assert refresh(acme, second["refresh_token"]).status_code == 401


def test_access_token_is_not_a_refresh_token(acme):
    tokens = acme.tokens("Clerk")

    assert refresh(acme, tokens["access_token"]).status_code == 401


def test_logout_revokes_both_tokens(acme):
    tokens = acme.tokens("Finance")
    client = bearer(acme, tokens["access_token"])

    assert client.post("/api/auth/logout").status_code == 204

    assert client.get("/api/payments/").status_code == 401
    assert refresh(acme, tokens["refresh_token"]).status_code == 401


def test_logout_ends_only_that_session(acme):
    kept = acme.tokens("Finance")
    ended = acme.tokens("Finance")

    bearer(acme, ended["access_token"]).post("/api/auth/logout")

    assert bearer(acme, kept["access_token"]).get("/api/payments/").status_code == 200


def test_deactivating_a_user_revokes_all_their_tokens(acme):
    one, two = acme.tokens("Clerk"), acme.tokens("Clerk")
    with acme:
        services.deactivate_user(acme.user("Clerk"))

    for tokens in (one, two):
        assert bearer(acme, tokens["access_token"]).get("/api/growers/").status_code == 401
        assert refresh(acme, tokens["refresh_token"]).status_code == 401


@pytest.mark.parametrize("through_the_service", [True, False])
def test_a_password_change_revokes_all_tokens(acme, through_the_service):
    tokens = acme.tokens("Clerk")
    with acme:
        user = acme.user("Clerk")
        if through_the_service:
            services.set_password(user, "a-brand-new-passphrase")
        else:  # e.g. the admin's password form: the token's password claim no longer matches
            user.set_password("a-brand-new-passphrase")
            user.save()

    assert bearer(acme, tokens["access_token"]).get("/api/growers/").status_code == 401
    assert refresh(acme, tokens["refresh_token"]).status_code == 401


def test_suspended_company_tokens_stop_working(acme):
    tokens = acme.tokens("Manager")
    connection.set_schema_to_public()
    acme.company.is_active = False
    acme.company.save()

    response = bearer(acme, tokens["access_token"]).get("/api/growers/")

    assert response.status_code == 404
