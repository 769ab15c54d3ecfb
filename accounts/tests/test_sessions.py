"""Browser sessions and API tokens: a login gets a new session, logout ends it, and deactivation or a new
password ends every session and token of the user; access tokens are short-lived."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(tenant, email):
    """A client that logged in through the real login page."""
    client = tenant.client()
    response = client.post("/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def session_exists(tenant, client):
    with tenant:
        return Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()


def test_login_replaces_the_anonymous_session(acme):
    client = acme.client()
    client.get("/login/")
    # An anonymous session that an attacker could have planted: a real key in the table.
    session = client.session
    session["planted"] = True
    session.save()
    before = session.session_key

    client.post("/login/", {"username": "clerk@acme.test", "password": PASSWORD})

    after = client.cookies["sessionid"].value
    assert after != before
    with acme:
        # The planted key is gone; its data moved to a key the attacker does not know (Django's cycle_key).
        assert not Session.objects.filter(session_key=before).exists()
        assert Session.objects.get(session_key=after).get_decoded()["_auth_user_id"] == str(acme.user("Clerk").pk)


def test_logout_deletes_the_session(acme):
    client = logged_in(acme, "clerk@acme.test")
    key = client.cookies["sessionid"].value

    client.post("/logout/")

    with acme:
        assert not Session.objects.filter(session_key=key).exists()
    # The old cookie, replayed, is anonymous.
    replay = acme.client()
    replay.cookies["sessionid"] = key
    assert replay.get("/").status_code == 302


@pytest.mark.parametrize("end", ["deactivate", "new password"])
def test_deactivation_and_a_new_password_end_every_session_and_token(acme, end):
    browsers = [logged_in(acme, "clerk@acme.test"), logged_in(acme, "clerk@acme.test")]
    bystander = logged_in(acme, "finance@acme.test")
    tokens = acme.tokens("Clerk")
    with acme:
        user = acme.user("Clerk")
        if end == "deactivate":
            services.deactivate_user(user)
        else:
            services.set_password(user, "a-whole-new-passphrase")

    for browser in browsers:
        assert not session_exists(acme, browser)
        assert browser.get("/").status_code == 302
    api = APIClient(HTTP_HOST=acme.host)
    api.credentials(HTTP_AUTHORIZATION="Bearer " + tokens["access_token"])
    assert api.get("/api/growers/").status_code == 401
    refresh = APIClient(HTTP_HOST=acme.host).post(
        "/api/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json",
    )
    assert refresh.status_code == 401
    # Someone else's session is untouched.
    assert session_exists(acme, bystander)
    assert bystander.get("/").status_code == 200


def test_a_password_changed_outside_the_service_still_ends_browser_sessions(acme):
    """E.g. the admin's password form: Django's session hash no longer matches."""
    browser = logged_in(acme, "clerk@acme.test")
    with acme:
        user = acme.user("Clerk")
        user.set_password("a-whole-new-passphrase")
        user.save()

    assert browser.get("/").status_code == 302


def test_the_new_password_works_after_the_change(acme):
    with acme:
        services.set_password(acme.user("Clerk"), "a-whole-new-passphrase")

    response = acme.client().post("/login/", {"username": "clerk@acme.test", "password": "a-whole-new-passphrase"})

    assert response.status_code == 302


def test_access_tokens_live_fifteen_minutes(acme):
    tokens = acme.tokens("Clerk")
    token = AccessToken(tokens["access_token"])

    lifetime = dt.timedelta(seconds=token["exp"] - token["iat"])
    assert lifetime == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == dt.timedelta(minutes=15)
    assert tokens["expires_in"] == 900


def test_an_access_token_a_second_past_its_expiry_is_refused(acme):
    tokens = acme.tokens("Clerk")
    token = AccessToken(tokens["access_token"])
    token.set_exp(from_time=dt.datetime.now(dt.UTC) - settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"],
                  lifetime=settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] - dt.timedelta(seconds=1))
    client = APIClient(HTTP_HOST=acme.host)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get("/api/growers/")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_reusing_a_refresh_token_revokes_every_generation_of_its_family(acme):
    first = acme.tokens("Clerk")
    unrelated = acme.tokens("Clerk")
    client = APIClient(HTTP_HOST=acme.host)
    second = client.post("/api/auth/refresh", {"refresh_token": first["refresh_token"]}, format="json").json()
    third = client.post("/api/auth/refresh", {"refresh_token": second["refresh_token"]}, format="json").json()

    # The thief replays the oldest refresh token.
    replay = client.post("/api/auth/refresh", {"refresh_token": first["refresh_token"]}, format="json")

    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    for pair in (second, third):
        bearer = APIClient(HTTP_HOST=acme.host)
        bearer.credentials(HTTP_AUTHORIZATION="Bearer " + pair["access_token"])
        assert bearer.get("/api/growers/").status_code == 401
    assert client.post("/api/auth/refresh", {"refresh_token": third["refresh_token"]},
                       format="json").status_code == 401
    # Another login of the same user is another family, and lives on.
    bearer = APIClient(HTTP_HOST=acme.host)
    bearer.credentials(HTTP_AUTHORIZATION="Bearer " + unrelated["access_token"])
    assert bearer.get("/api/growers/").status_code == 200


def test_a_manager_unticking_active_in_the_admin_ends_the_users_sessions_and_tokens(acme):
    browser = logged_in(acme, "clerk@acme.test")
    tokens = acme.tokens("Clerk")
    manager = acme.client("Manager")
    with acme:
        clerk = acme.user("Clerk")
        groups = [str(pk) for pk in clerk.groups.values_list("pk", flat=True)]

    response = manager.post(f"/admin/accounts/user/{clerk.pk}/change/", {
        "email": clerk.email, "full_name": "Clerk", "groups": groups, "_save": "Save",
    })

    assert response.status_code == 302, response.content[:500]
    with acme:
        clerk.refresh_from_db()
        assert not clerk.is_active
        assert not clerk.api_sessions.filter(revoked_at__isnull=True).exists()
    assert not session_exists(acme, browser)
    api = APIClient(HTTP_HOST=acme.host)
    api.credentials(HTTP_AUTHORIZATION="Bearer " + tokens["access_token"])
    assert api.get("/api/growers/").status_code == 401
