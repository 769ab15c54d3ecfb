import sys

import psycopg
from django import db
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from psycopg.errors import QueryCanceled

# What PostgreSQL being down, restarting or out of pooled connections looks like to us:
# psycopg's and Django's OperationalError and InterfaceError (a refused or dropped
# connection, "the database system is shutting down"), and psycopg_pool.PoolTimeout,
# which subclasses psycopg.OperationalError. Django wraps psycopg's errors in its own.
DATABASE_DOWN = (db.OperationalError, db.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
# Seconds a client should wait: about how long a PostgreSQL restart or failover takes.
RETRY_AFTER = "5"
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


def page_not_found(request, exception):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


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
    return defaults.server_error(request)


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
