from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

from . import health
from .views import method_not_allowed

HEALTH_ENDPOINTS = {"/health": health.live, "/health/ready": health.ready}


class HealthCheckMiddleware:
    """Answers /health and /health/ready before tenant routing, on any host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        endpoint = HEALTH_ENDPOINTS.get(request.path_info.rstrip("/") or "/")
        if endpoint is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return endpoint()


# --- NUL bytes in the query string ---------------------------------------------------------------

NUL_IN_QUERY = {
    "detail": "The query string contains a NUL byte (%00), which no parameter may hold.",
    "code": "invalid",
}


class NulByteQueryMiddleware:
    """A NUL byte in any query key or value is a 400 here, before any view, on every host.

    PostgreSQL cannot hold NUL in text, so a value carrying one reached the database as a
    DataError (a 500) from any filter that compares text: the admin's list filters, every
    FilterSet. Refusing it once, at the top, covers the views no one wrote a check for.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            return nul_in_query(request)
        return self.get_response(request)


def nul_in_query(request):
    # Rendered without the request: nothing below this middleware (tenant, session, user) has run.
    if request.path_info.startswith("/api/"):
        response = JsonResponse(NUL_IN_QUERY, status=400)
    else:
        response = HttpResponseBadRequest(render_to_string("400.html"))
    # Above SecurityMiddleware and the CSP, so the headers that matter for a page with no script are set here.
    response["Cache-Control"] = PRIVATE
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "DENY"
    return response


# --- Cache-Control ---------------------------------------------------------------------------------

# What a browser (or a proxy) may keep of a page: nothing. See docs/SECURITY.md, "Caching".
PRIVATE = "no-store, private"


class NoStoreMiddleware:
    """`Cache-Control: no-store, private` on every response the app makes, static files aside.

    Pages show money and people's names, CSV exports more so, and a shared weighbridge PC
    keeps whatever it is allowed to after the user logs out. Telling the pages that may be
    kept from those that may not would need the user (a query, and a failure of its own when
    the database is down); no page of ours gains from a browser cache, so none gets one.
    Static files keep WhiteNoise's caching, and /health is answered above this middleware.

    It sits below core.fastpath, so a stored API page carries this header when answered from Redis.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith(self.static_prefix):
            patch_cache_control(response, no_store=True, private=True)
        return response


class MethodNotAllowedPageMiddleware:
    """A 405 with an empty body (Django's require_POST and View.http_method_not_allowed) becomes a page with
    the navigation and a way back: a GET of a form's action, from a bookmark or a reload, was a blank page.
    The API's 405s carry their JSON already and are left alone; so is HEAD, which has no body to show."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content or request.method == "HEAD" \
                or request.path.startswith("/api/"):
            return response
        page = method_not_allowed(request, response.get("Allow", ""))
        page["Allow"] = response.get("Allow", "")
        return page
