"""Audit trail: who did what, for which company, in which request.

Every log line carries `request_id`, `tenant` and `user` (ContextFilter on
the console handler). The request id comes from django-guid, which also
accepts and returns X-Request-ID. Security events go to the
"fruitpak.audit" logger as one `event=... key=value` line each:

- login.succeeded / login.failed / login.locked_out (HTML and API),
- permission.denied (every 403, HTML and API),
- payment.recorded and batch.transitioned (after their transaction commits),
- api_session.revoked (logout, refresh-token reuse, password change).

Imported by the logging configuration, so it must not import models.
"""

import contextvars
import json
import logging
import re

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.signals import request_finished
from django.db import connection, transaction
from django.dispatch import receiver
from django.utils.functional import empty
from django_guid import get_guid

from .clients import client_ip_address

audit_log = logging.getLogger("fruitpak.audit")

_current_request = contextvars.ContextVar("fruitpak_request", default=None)
_PLAIN_VALUE = re.compile(r"[\w.@:/+-]+")
NOBODY = "-"


def _user_of(request):
    """The request's user if authentication already ran, without ever triggering it from a log call."""
    if request is None:
        return None
    # DRF sets request.user on the Django request once a token authenticates.
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty:
        return None
    return wrapped if getattr(wrapped, "is_authenticated", False) else None


def _schema_name():
    try:
        return getattr(connection, "schema_name", None) or NOBODY
    except Exception:  # a log call must never fail, e.g. from a thread with no usable connection
        return NOBODY


def current_context(user=None):
    request = _current_request.get()
    user = user or _user_of(request)
    return {
        "request_id": (get_guid() if request is not None else None) or NOBODY,
        "tenant": _schema_name(),
        "user": getattr(user, "email", None) or NOBODY,
    }


class ContextFilter(logging.Filter):
    """Adds request_id, tenant and user to every record (fields an event set itself are kept)."""

    def filter(self, record):
        for key, value in current_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _format_value(value):
    text = str(value)
    # Quoted when needed, so a hostile email or path cannot forge another key=value or a new line.
    return text if _PLAIN_VALUE.fullmatch(text) else json.dumps(text)


def _emit(level, context, name, fields):
    message = " ".join(f"{key}={_format_value(value)}" for key, value in {"event": name, **fields}.items())
    audit_log.log(level, message, extra={**context, "event": name, "fields": fields})


def event(name, *, user=None, level=logging.INFO, **fields):
    """Log one audit event now. `user` defaults to the request's authenticated user."""
    _emit(level, current_context(user), name, fields)


def event_on_commit(name, *, user=None, **fields):
    """Log the event once the current transaction commits: a rolled-back change never happened."""
    context = current_context(user)
    transaction.on_commit(lambda: _emit(logging.INFO, context, name, fields), robust=True)


class AuditMiddleware:
    """Keeps the request reachable by the log filter, and logs every 403 as a permission denial."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Not reset on the way out: Django logs the response ("Forbidden: /x") after
        # the middleware returns. request_finished clears it.
        _current_request.set(request)
        response = self.get_response(request)
        if response.status_code == 403:
            event("permission.denied", level=logging.WARNING, method=request.method, path=request.path)
        return response


@receiver(request_finished, dispatch_uid="core.audit.request_finished")
def _forget_request(sender, **kwargs):
    _current_request.set(None)


@receiver(user_logged_in, dispatch_uid="core.audit.logged_in")
def _logged_in(sender, request, user, **kwargs):
    event("login.succeeded", user=user, channel="html", ip=client_ip_address(request) if request else NOBODY)


@receiver(user_login_failed, dispatch_uid="core.audit.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    path = getattr(request, "path", "") if request is not None else ""
    event(
        "login.failed", level=logging.WARNING,
        channel="api" if path.startswith("/api/") else "html",
        email=str(credentials.get("username") or credentials.get("email") or "")[:254],
        ip=client_ip_address(request) if request is not None else NOBODY,
        locked_out=bool(getattr(request, "axes_locked_out", False)),
    )
