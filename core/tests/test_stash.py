"""A form posted after the session ended comes back filled in after the login (core/stash.py)."""

import json
import re

from django.test import Client

from conftest import PASSWORD, role_email


def intake_form(client):
    return client.get("/batches/new/").content.decode()


def test_a_post_after_the_session_ended_is_kept_and_filled_in_after_the_login(acme):
    client = acme.client("Clerk")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', intake_form(client)).group(1)
    client.logout()  # the session is gone on the server, as when it expires

    data = {"block": "G0042-F1/B01", "gross_weight_kg": "2345.50", "tare_weight_kg": "345.50", "bin_count": "5",
            "notes": "kept", "idempotency_key": key, "password_again": "secret"}
    response = client.post("/batches/new/", data, follow=True)

    assert response.redirect_chain[-1][0].startswith("/login/?next=/batches/new/")
    assert "Your session ended before the form was saved" in response.content.decode()

    login = client.post("/login/", {"username": role_email("acme", "Clerk"), "password": PASSWORD,
                                    "next": "/batches/new/"}, follow=True)
    html = login.content.decode()
    assert login.redirect_chain[-1][0] == "/batches/new/"
    kept = json.loads(re.search(r'<script id="stashed-form" type="application/json">(.*?)</script>', html).group(1))
    assert kept == {"block": ["G0042-F1/B01"], "gross_weight_kg": ["2345.50"], "tare_weight_kg": ["345.50"],
                    "bin_count": ["5"], "notes": ["kept"], "idempotency_key": [key]}
    # Once: the next visit is a fresh form.
    assert "stashed-form" not in intake_form(client)


def test_nothing_is_kept_for_the_api_or_a_post_by_a_logged_in_user(acme):
    client = acme.client("Clerk")
    client.post("/batches/new/", {"notes": "invalid on purpose"})
    assert "stashed_post" not in client.session

    anonymous = Client(HTTP_HOST=acme.host)
    response = anonymous.post("/api/batches/", {"notes": "x"})
    assert response.status_code == 401
    assert "stashed_post" not in anonymous.session


def test_kept_fields_are_shown_only_on_the_page_they_were_posted_to(acme):
    client = Client(HTTP_HOST=acme.host)
    client.post("/payments/new/", {"grower": "G0042", "amount": "12.50"})
    client.post("/login/", {"username": role_email("acme", "Finance"), "password": PASSWORD})
    assert "stashed-form" not in client.get("/batches/").content.decode()
    assert "stashed-form" in client.get("/payments/new/").content.decode()


def test_logout_says_so(acme):
    client = acme.client("Clerk")
    response = client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "You have logged out." in response.content.decode()
