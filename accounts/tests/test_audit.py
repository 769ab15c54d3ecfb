"""The audit log: logins, denials, payments and transitions, each with the user, the company and a request id."""

import datetime as dt
import json
import logging
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from batches.tests.factories import BatchFactory
from conftest import PASSWORD
from core import audit as fruitpak_audit
from core.audit import ContextFilter
from growers.tests.factories import GrowerFactory

pytestmark = pytest.mark.django_db

AUDIT = "fruitpak.audit"


@pytest.fixture
def audit(caplog):
    caplog.set_level(logging.INFO, logger=AUDIT)

    def events(name):
        return [record for record in caplog.records if record.name == AUDIT and record.event == name]

    return events


def only(records):
    assert len(records) == 1, [record.getMessage() for record in records]
    return records[0]


def assert_context(record, response, tenant, user):
    assert record.request_id == response["X-Request-ID"]
    assert len(record.request_id) == 32
    assert record.tenant == tenant
    assert record.user == user


def test_html_login_success_and_failure(acme, audit):
    client = acme.client()

    failed = client.post("/login/", {"username": "clerk@acme.test", "password": "wrong-password"})
    succeeded = client.post("/login/", {"username": "clerk@acme.test", "password": PASSWORD})

    record = only(audit("login.failed"))
    assert_context(record, failed, "acme", "-")
    assert record.levelno == logging.WARNING
    assert "email=clerk@acme.test" in record.getMessage() and "channel=html" in record.getMessage()
    record = only(audit("login.succeeded"))
    assert_context(record, succeeded, "acme", "clerk@acme.test")
    assert "channel=html" in record.getMessage()


def test_api_login_success_and_failure(globex, audit):
    client = APIClient(HTTP_HOST=globex.host)

    failed = client.post("/api/auth/login", {"email": "finance@globex.test", "password": "nope-nope"}, format="json")
    succeeded = client.post("/api/auth/login", {"email": "finance@globex.test", "password": PASSWORD}, format="json")

    assert (failed.status_code, succeeded.status_code) == (401, 200)
    record = only(audit("login.failed"))
    assert_context(record, failed, "globex", "-")
    assert "channel=api" in record.getMessage() and "email=finance@globex.test" in record.getMessage()
    assert_context(only(audit("login.succeeded")), succeeded, "globex", "finance@globex.test")


def test_a_lockout_is_logged(acme, audit):
    client = APIClient(HTTP_HOST=acme.host, REMOTE_ADDR="203.0.113.250")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/api/auth/login", {"email": "clerk@acme.test", "password": "x"}, format="json")

    assert response.status_code == 429
    record = audit("login.locked_out")[-1]
    assert_context(record, response, "acme", "-")
    assert "ip=203.0.113.250" in record.getMessage()


def test_permission_denied_on_a_page_is_logged(acme, audit):
    response = acme.client("Clerk").get("/payments/")

    assert response.status_code == 403
    record = only(audit("permission.denied"))
    assert_context(record, response, "acme", "clerk@acme.test")
    assert "path=/payments/" in record.getMessage() and "method=GET" in record.getMessage()


def test_permission_denied_on_the_api_is_logged(acme, audit):
    response = acme.api_client("Clerk").post("/api/payments/", {}, format="json")

    assert response.status_code == 403
    record = only(audit("permission.denied"))
    assert_context(record, response, "acme", "clerk@acme.test")
    assert "method=POST" in record.getMessage()


def test_a_payment_is_logged_once_committed(acme, audit, django_capture_on_commit_callbacks):
    with acme:
        grower = GrowerFactory()
    client = acme.api_client("Finance")
    body = {"grower": grower.pk, "payment_type": "advance", "amount": "1250.50", "reference": "EFT 77",
            "paid_date": (dt.date.today() - dt.timedelta(days=1)).isoformat()}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/payments/", body, format="json")

    assert response.status_code == 201, response.content
    record = only(audit("payment.recorded"))
    assert_context(record, response, "acme", "finance@acme.test")
    assert record.fields["amount"] == Decimal("1250.50")
    assert f"payment={response.json()['id']}" in record.getMessage()
    assert 'reference="EFT 77"' in record.getMessage()


def test_a_refused_payment_logs_nothing(acme, audit, django_capture_on_commit_callbacks):
    with acme:
        grower = GrowerFactory()
    body = {"grower": grower.pk, "payment_type": "advance", "amount": "-5", "paid_date": "2020-01-01"}

    with django_capture_on_commit_callbacks(execute=True):
        response = acme.api_client("Finance").post("/api/payments/", body, format="json")

    assert response.status_code == 400
    assert audit("payment.recorded") == []


def test_a_batch_transition_is_logged(acme, audit, django_capture_on_commit_callbacks):
    with acme:
        batch = BatchFactory()
    client = acme.client("Clerk")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/batches/{batch.pk}/transition/", {"to_status": "grading", "version": "1"})
        refused = client.post(f"/batches/{batch.pk}/transition/", {"to_status": "received", "version": "2"})

    assert response.status_code == 302
    assert "cannot move" in client.get(refused["Location"]).text
    record = only(audit("batch.transitioned"))  # the refused move logged nothing
    assert_context(record, response, "acme", "clerk@acme.test")
    message = record.getMessage()
    assert f"batch={batch.pk}" in message and "from_status=received" in message and "to_status=grading" in message


def test_refresh_token_reuse_is_logged(acme, audit, django_capture_on_commit_callbacks):
    tokens = acme.tokens("Clerk")
    client = APIClient(HTTP_HOST=acme.host)
    client.post("/api/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")

    with django_capture_on_commit_callbacks(execute=True):
        replay = client.post("/api/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")

    assert replay.status_code == 401
    record = only(audit("api_session.revoked"))
    assert record.user == "clerk@acme.test" and record.tenant == "acme"
    assert 'reason="refresh token reused"' in record.getMessage()


def test_a_request_id_from_the_proxy_is_kept(acme, audit):
    given = uuid.uuid4().hex

    response = acme.client().post("/login/", {"username": "a@b.test", "password": "x"}, HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] == given
    assert only(audit("login.failed")).request_id == given


def test_a_forged_request_id_is_replaced(acme, audit):
    forged = "abc\nevent=login.succeeded user=manager@acme.test"

    response = acme.client().post("/login/", {"username": "a@b.test", "password": "x"}, HTTP_X_REQUEST_ID=forged)

    assert response["X-Request-ID"] != forged and len(response["X-Request-ID"]) == 32
    assert only(audit("login.failed")).request_id == response["X-Request-ID"]


def test_hostile_values_stay_on_one_line_and_cannot_forge_fields(audit):
    hostile = "x@y.test\nevent=login.succeeded user=manager@acme.test"

    fruitpak_audit.event("login.failed", email=hostile)

    message = only(audit("login.failed")).getMessage()
    assert "\n" not in message
    # The value is one JSON string; nothing in it reads as a field of its own.
    assert message == "event=login.failed email=" + json.dumps(hostile)


def test_every_log_line_carries_the_context(acme):
    """The console handler's filter adds request_id, tenant and user to any logger's lines, e.g. Django's own."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.WARNING)
    handler.addFilter(ContextFilter())
    logging.getLogger("django.request").addHandler(handler)
    try:
        response = acme.client("Clerk").get("/payments/")
    finally:
        logging.getLogger("django.request").removeHandler(handler)

    record = only([r for r in records if r.name == "django.request"])
    assert_context(record, response, "acme", "clerk@acme.test")
    assert "request_id=%(request_id)s tenant=%(tenant)s user=%(user)s" in (
        settings.LOGGING["formatters"]["plain"]["format"]
    )
    assert "context" in settings.LOGGING["handlers"]["console"]["filters"]


def test_outside_a_request_the_context_is_empty_but_present():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)

    ContextFilter().filter(record)

    assert (record.request_id, record.user) == ("-", "-")
    assert record.tenant  # the schema the connection is on


@pytest.mark.parametrize("value", ["clerk@acme.test\n", "a b", "x=y", 'quote"d', "tab\there", ""])
def test_values_that_could_break_the_line_are_quoted(audit, value):
    fruitpak_audit.event("test.value", value=value)

    assert only(audit("test.value")).getMessage() == "event=test.value value=" + json.dumps(value)
