"""The lockout policy against abuse (issue 14, item 1): nobody can keep an account locked for good.

- failures from other addresses never lock the rightful user out of an address they logged in from;
- a failure during a lockout, the attacker's or the user's own, is refused and not counted, so the
  cool-off ends when it was going to;
- a manager (company admin) and `manage.py unlock_user` can unlock an account at once.
"""

import datetime as dt
import io
import itertools
import logging
import random

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.utils import timezone

from accounts import services
from accounts.models import KnownAddress
from accounts.tests.test_lockout import WRONG, api_login, assert_api_locked, assert_html_locked, html_login
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

_addresses = (f"203.0.{random.randrange(113, 256)}.{n}" for n in itertools.count(1))


def new_address():
    return next(_addresses)


def age_attempts(tenant, by):
    with tenant:
        AccessAttempt.objects.update(attempt_time=timezone.now() - by)


def test_failures_from_elsewhere_never_lock_the_user_out_of_their_known_address(acme):
    home = new_address()
    assert api_login(acme, "clerk@acme.test", PASSWORD, home).status_code == 200
    for _ in range(settings.AXES_ACCOUNT_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, new_address())

    # Locked everywhere else...
    assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, new_address()))
    # ...but not where the user logged in from, on the API or the page.
    assert api_login(acme, "clerk@acme.test", PASSWORD, home).status_code == 200
    client, response = html_login(acme, "clerk@acme.test", PASSWORD, home)
    assert response.status_code == 302


def test_a_browser_login_makes_its_address_known_too(acme):
    home = new_address()
    assert html_login(acme, "clerk@acme.test", PASSWORD, home)[1].status_code == 302
    with acme:
        assert KnownAddress.objects.filter(user__email="clerk@acme.test", ip_address=home).exists()


def test_a_known_address_stops_counting_after_the_period(acme):
    home = new_address()
    api_login(acme, "clerk@acme.test", PASSWORD, home)
    with acme:
        KnownAddress.objects.update(last_login_at=timezone.now() - dt.timedelta(days=settings.KNOWN_ADDRESS_DAYS + 1))
    for _ in range(settings.AXES_ACCOUNT_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, new_address())

    assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, home))


def test_failures_from_one_address_lock_only_that_address_for_the_account(acme):
    attacker = new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, attacker)

    assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, attacker))
    assert api_login(acme, "clerk@acme.test", PASSWORD, new_address()).status_code == 200


def test_failures_during_a_lockout_do_not_extend_it(acme):
    ip = new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, ip)
    age_attempts(acme, settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1))
    with acme:
        before = list(AccessAttempt.objects.values_list("attempt_time", "failures_since_start"))

    # The attacker keeps failing, and the user keeps trying the right password: both refused...
    assert_api_locked(api_login(acme, "clerk@acme.test", WRONG, ip))
    client, response = html_login(acme, "clerk@acme.test", WRONG, ip)
    assert_html_locked(response, client)
    assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, ip))

    # ...and none of it counted: the cool-off still ends a minute from now.
    with acme:
        assert list(AccessAttempt.objects.values_list("attempt_time", "failures_since_start")) == before
    age_attempts(acme, settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1))
    assert api_login(acme, "clerk@acme.test", PASSWORD, ip).status_code == 200


def test_a_manager_unlocks_an_account_in_the_company_admin(acme, caplog, django_capture_on_commit_callbacks):
    for _ in range(settings.AXES_ACCOUNT_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, new_address())
    assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, new_address()))
    clerk = acme.user("Clerk")
    admin = acme.client("Manager")

    with caplog.at_level(logging.INFO, logger="fruitpak.audit"), django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/accounts/user/", {"action": "unlock_login", "_selected_action": [clerk.pk]}, follow=True,
        )

    assert response.status_code == 200
    assert "Unlocked 1 user" in response.text
    assert api_login(acme, "clerk@acme.test", PASSWORD, new_address()).status_code == 200
    unlocked = [r for r in caplog.records if getattr(r, "event", None) == "login.unlocked"]
    assert unlocked and unlocked[0].fields["email"] == "clerk@acme.test"
    assert unlocked[0].user == "manager@acme.test"
    assert unlocked[0].fields["via"] == "admin"


def test_unlocking_keeps_an_addresss_own_failures(acme):
    spraying = new_address()
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        api_login(acme, f"guess{n}@acme.test", WRONG, spraying)

    services.unlock_login(acme.user("Clerk"), via="test")

    assert_api_locked(api_login(acme, "clerk@acme.test", PASSWORD, spraying))


def test_manage_py_unlock_user(acme):
    ip = new_address()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_login(acme, "clerk@acme.test", WRONG, ip)
    out = io.StringIO()

    call_command("unlock_user", "--schema", acme.schema, "--email", " CLERK@acme.teſt", stdout=out)

    assert "Unlocked clerk@acme.test in acme" in out.getvalue()
    assert api_login(acme, "clerk@acme.test", PASSWORD, ip).status_code == 200


def test_manage_py_unlock_user_says_what_is_wrong(acme):
    with pytest.raises(CommandError, match="No schema 'nope'"):
        call_command("unlock_user", "--schema", "nope", "--email", "clerk@acme.test")
    with pytest.raises(CommandError, match="No user 'nobody@acme.test'"):
        call_command("unlock_user", "--schema", acme.schema, "--email", "nobody@acme.test")


def test_manage_py_unlock_user_has_help():
    text = load_command_class("accounts", "unlock_user").create_parser("manage.py", "unlock_user").format_help()

    assert "--schema" in text and "--email" in text and "failed login" in text
