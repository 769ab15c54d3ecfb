"""Look-alike emails (issue 14, item 2): one canonical form for storing, matching and counting.

PostgreSQL folds 'ſ' (U+017F) to 'S' and 'ı' (U+0131) to 'I' in case-insensitive comparisons; matching
with iexact let those spellings log in as the account while axes counted each spelling on its own.
"""

import pytest
from axes.models import AccessAttempt
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection

from accounts import services
from accounts.emails import canonical_email
from accounts.models import User
from accounts.tests.test_lockout import WRONG, api_login, assert_api_locked, html_login
from accounts.tests.test_lockout_policy import new_address
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

FULL_WIDTH = "ｃｌｅｒｋ@ａｃｍｅ.test"


@pytest.mark.parametrize(("typed", "canonical"), [
    ("clerk@acme.teſt", "clerk@acme.test"),
    (FULL_WIDTH, "clerk@acme.test"),
    (" CLERK@Acme.Test ", "clerk@acme.test"),
    ("Straße@acme.test", "strasse@acme.test"),
    ("a@Bücher.Example", "a@xn--bcher-kva.example"),
])
def test_canonical_form(typed, canonical):
    assert canonical_email(typed) == canonical


@pytest.mark.parametrize("typed", ["no-at-sign", "@acme.test", "x@", "x@a..b", "fınance@acme.test"])
def test_what_has_no_canonical_form(typed):
    with pytest.raises(ValueError):
        canonical_email(typed)


@pytest.mark.parametrize("look_alike", ["clerk@acme.teſt", FULL_WIDTH])
def test_look_alikes_count_against_the_account_they_resemble(acme, look_alike):
    ip = new_address()
    for n in range(settings.AXES_FAILURE_LIMIT):
        html_login(acme, look_alike if n % 2 else "clerk@acme.test", WRONG, ip)

    # Locked under every spelling, the plain one included.
    assert_api_locked(api_login(acme, look_alike, PASSWORD, ip))
    assert html_login(acme, "clerk@acme.test", PASSWORD, ip)[1].status_code == 429
    with acme:
        assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"clerk@acme.test"}


@pytest.mark.parametrize("look_alike", ["fınance@acme.test", "fınance@acme.teſt"])
def test_a_dotless_i_never_logs_in_as_the_account(acme, look_alike):
    response = api_login(acme, look_alike, PASSWORD, new_address())
    assert response.status_code == 400
    assert "access_token" not in response.json()

    client, response = html_login(acme, look_alike, PASSWORD, new_address())
    assert response.status_code == 200  # the form again, with its error
    assert client.get("/").status_code == 302


def test_the_same_account_under_its_other_spellings_logs_in(acme):
    assert api_login(acme, FULL_WIDTH, PASSWORD, new_address()).status_code == 200
    assert html_login(acme, "Clerk@Acme.Teſt", PASSWORD, new_address())[1].status_code == 302


def test_users_are_created_in_the_canonical_form(acme):
    with acme:
        user = services.create_user(email=" Ｎew.Person@ACME.teſt", password=PASSWORD, role="Clerk")
        assert user.email == "new.person@acme.test"
        again = services.ensure_user(email="NEW.PERSON@acme.test", password=PASSWORD, role="Clerk")
        assert again.pk == user.pk


def test_the_admin_creates_users_in_the_canonical_form(acme):
    admin = acme.client("Manager")
    response = admin.post("/admin/accounts/user/add/", {
        "email": "Ａdded@Acme.Teſt", "full_name": "", "password1": "a-long-enough-pass-9",
        "password2": "a-long-enough-pass-9", "usable_password": "true",
    })
    assert response.status_code == 302, response.content
    with acme:
        assert User.objects.filter(email="added@acme.test").exists()


class _SchemaEditor:
    connection = connection


def _migration():
    import importlib

    return importlib.import_module("accounts.migrations.0004_canonical_emails")


def test_the_migration_canonicalises_stored_emails(acme):
    with acme:
        user = services.create_user(email="old@acme.test", password=PASSWORD, role="Clerk")
        User.objects.filter(pk=user.pk).update(email="OLD@Acme.Teſt")

        _migration().canonicalise(django_apps, _SchemaEditor())

        user.refresh_from_db()
        assert user.email == "old@acme.test"


def test_the_migration_refuses_two_users_with_one_canonical_email(acme):
    with acme:
        first = services.create_user(email="twin@acme.test", password=PASSWORD, role="Clerk")
        second = services.create_user(email="twin2@acme.test", password=PASSWORD, role="Clerk")
        User.objects.filter(pk=second.pk).update(email="twin@acme.teſt")

        with pytest.raises(RuntimeError, match="share a canonical email") as refused:
            _migration().canonicalise(django_apps, _SchemaEditor())

        assert f"id {first.pk} 'twin@acme.test'" in str(refused.value)
        assert f"id {second.pk} 'twin@acme.teſt'" in str(refused.value)
