import sys

import psycopg
from django import db
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseNotFound, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import get_public_schema_name
from psycopg.errors import QueryCanceled

# What PostgreSQL being down, restarting or out of pooled connections looks like to us:
# psycopg's and Django's OperationalError and InterfaceError (a refused or dropped
# connection, "the database system is shutting down"), and psycopg_pool.PoolTimeout,
# which subclasses psycopg.OperationalError. Django wraps psycopg's errors in its own.
DATABASE_DOWN = (db.OperationalError, db.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
# Seconds a client should wait: about how long a PostgreSQL restart or failover takes.
RETRY_AFTER = "5"
TOO_LARGE = {
    "detail": f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, the most this server reads.",
    "code": "too_large",
}
SERVICE_UNAVAILABLE = {
    "detail": "The database is briefly unavailable. Nothing was half-saved; try again in a few seconds.",
    "code": "service_unavailable",
}


def unknown_host(request):
    """The page for a host that serves no company.

    Rendered without the request: no context processor, no session, no
    database, and never Django's debug page.
    """
    return HttpResponseNotFound(render_to_string("errors/unknown_host.html"))


def _wants_json(request):
    return request.path.startswith("/api/")


NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def error_layout(request):
    """The template an error page extends: the product's page, with its navigation, on a company's host; the
    standalone page on the public host, whose URLconf has none of the links the navigation makes."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return "errors/standalone.html"
    return "base.html"


def error_page(request, template, status, **context):
    return render(request, template, {"layout": error_layout(request), **context}, status=status)


def page_not_found(request, exception):
    if _wants_json(request):
        return JsonResponse(NOT_FOUND, status=404)
    return error_page(request, "404.html", 404, request_path=request.path)


def permission_denied(request, exception):
    if _wants_json(request):
        return JsonResponse({"detail": "You do not have permission to perform this action.",
                             "code": "permission_denied"}, status=403)
    return error_page(request, "403.html", 403)


def method_not_allowed(request, allowed):
    """The page for a request whose method the URL does not take (a GET of a POST-only form action)."""
    return error_page(request, "405.html", 405, allowed=allowed)


# A statement cancelled by statement_timeout (DB_STATEMENT_TIMEOUT) or by hand: psycopg's QueryCanceled,
# an OperationalError too, so it is told apart before database_is_down would call it an outage.
STATEMENT_TIMED_OUT = {
    "detail": "The request took too long and was stopped; nothing was saved. Ask for a shorter period or "
              "narrower filters, or try again later.",
    "code": "statement_timeout",
}


def _chain(exc):
    """exc and the exceptions it was raised from or while handling, as a traceback shows them."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        yield exc
        seen.add(id(exc))
        exc = exc.__cause__ if exc.__cause__ is not None or exc.__suppress_context__ else exc.__context__


def statement_timed_out(exc):
    return any(isinstance(link, QueryCanceled) for link in _chain(exc))


def timed_out(request):
    """503 for a statement that ran out of time: JSON under /api/, a standalone page elsewhere.

    No Retry-After: the same request would most likely run out of time again.
    """
    if _wants_json(request):
        return JsonResponse(STATEMENT_TIMED_OUT, status=503)
    return HttpResponse(render_to_string("503_timeout.html"), status=503)


@csrf_exempt  # no state to protect, and a 403 for a path that does not exist would mislead
def api_not_found(request, rest=""):
    """The last pattern under /api/: a JSON 404 even with DEBUG on, where Django would render its HTML 404 page.

    Matching everything also stops CommonMiddleware's slash redirect (every path now resolves), so a GET
    of a known path without its slash is redirected here instead.
    """
    if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
        match = _resolve(request.path + "/")
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse(NOT_FOUND, status=404)


def _resolve(path):
    try:
        return resolve(path)  # the request's urlconf (django-tenants sets it per host)
    except Resolver404:
        return None


def bad_request(request, exception):
    """400, or 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE: JSON under /api/, Django's page elsewhere.

    Django raises RequestDataTooBig (a SuspiciousOperation) wherever the body is first read, which can be
    outside DRF's exception handler; without this it is an HTML 400.
    """
    if isinstance(exception, RequestDataTooBig):
        if _wants_json(request):
            return JsonResponse(TOO_LARGE, status=413)
        return HttpResponse(TOO_LARGE["detail"], status=413, content_type="text/plain; charset=utf-8")
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def database_is_down(exc):
    """True when exc, or the exception it was raised from or while handling, is a lost database.

    The chain is followed as a traceback shows it: `raise ... from None` ends it,
    so a lock conflict turned into a Conflict stays a Conflict.
    """
    return any(isinstance(link, DATABASE_DOWN) for link in _chain(exc))


def service_unavailable(request):
    """503 with Retry-After: JSON under /api/, a standalone page elsewhere.

    The page is rendered without the request, so no context processor, session
    or user lookup can touch the database that is down.
    """
    if _wants_json(request):
        response = JsonResponse(SERVICE_UNAVAILABLE, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = RETRY_AFTER
    return response


def server_error(request):
    """500: JSON under /api/, our own page elsewhere. Never a traceback.

    Django calls this for any exception that escapes a view or a middleware
    (TenantMiddleware's domain lookup included), while the exception is still
    being handled, so sys.exc_info() tells a lost database (503) from a bug (500).
    """
    if statement_timed_out(sys.exc_info()[1]):
        return timed_out(request)
    if database_is_down(sys.exc_info()[1]):
        return service_unavailable(request)
    if _wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side. It has been logged; try again.", "code": "server_error"},
            status=500,
        )
    try:
        return error_page(request, "500.html", 500)
    except Exception:  # noqa: BLE001 whatever broke the view may break the navigation too (the session, a tag)
        return HttpResponse(render_to_string("errors/500_plain.html"), status=500)


def list_query(request):
    """The current list's query string, for page and sort links that keep the filters."""
    without_page = request.GET.copy()
    without_page.pop("page", None)
    without_ordering = without_page.copy()
    without_ordering.pop("ordering", None)
    return {
        "query_without_page": without_page.urlencode(),
        "query_without_ordering": without_ordering.urlencode(),
        "query": without_page.urlencode(),
        "ordering": request.GET.get("ordering", ""),
    }


def csrf_failure(request, reason=""):
    """A refused CSRF check: JSON under /api/ (a client sending a session cookie without a token), the
    "form expired" page elsewhere."""
    if _wants_json(request):
        return JsonResponse({"detail": f"CSRF check failed: {reason}", "code": "csrf_failed"}, status=403)
    return error_page(request, "403_csrf.html", 403, reason=reason)
