"""django-axes hooks: whose attempt it is, from which address, and what a locked-out client sees.

Axes keeps its attempts in the tenant's schema (it is a tenant app), with
the database handler, so a lockout is per company and does not depend on
Redis. See docs/SECURITY.md.
"""

import logging

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from core import audit
from core.clients import client_ip_address

LOCKED_OUT = "Too many failed logins. Try again in {minutes} minutes."


def username_of(request, credentials):
    """The attempted email, normalised, so that CLERK@x and clerk@x count as one account."""
    if credentials:
        username = credentials.get("username") or credentials.get("email")
    else:
        data = getattr(request, "data", None) or request.POST
        username = data.get("username") or data.get("email")
    return str(username).strip().lower()[:254] if username else None


def retry_after_seconds():
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out(request, original_response=None, credentials=None):
    """Axes's lockout response: JSON {detail, code} on the API, our page on HTML; 429 with Retry-After."""
    seconds = retry_after_seconds()
    detail = LOCKED_OUT.format(minutes=max(1, seconds // 60))
    audit.event(
        "login.locked_out", level=logging.WARNING, channel="api" if request.path.startswith("/api/") else "html",
        email=username_of(request, credentials) or "", ip=client_ip_address(request),
    )
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail, "code": "locked_out"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(seconds)
    return response
