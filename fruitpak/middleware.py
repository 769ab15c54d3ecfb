from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpResponseNotAllowed
from django.urls import Resolver404, resolve
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts import grants
from accounts.authentication import TenantJWTAuthentication
from tenants.models import cached_company_for_host, company_for_host

from . import health
from .cache import cached_response, page_key
from .views import unknown_host

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


class TenantMiddleware(TenantMainMiddleware):
    """Routes by hostname; an unknown, disallowed or suspended host gets our 404 page.

    The hostname's company comes from Redis when it can (tenants.models.company_for_host).

    It also activates the company's time zone, so dates shown and parsed are
    the company's local dates.
    """

    def get_tenant(self, domain_model, hostname):
        tenant = company_for_host(hostname)
        if not tenant.is_active:
            raise domain_model.DoesNotExist(f"{tenant.schema_name} is suspended")
        return tenant

    def no_tenant_found(self, request, hostname):
        return unknown_host(request)

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            # A DisallowedHost comes back from django-tenants as an empty 404.
            return unknown_host(request) if response.status_code == 404 else response
        timezone.activate(request.tenant.time_zone)
        return None


class CachedPageMiddleware:
    """Answers a repeated GET of a cached API list from Redis, before sessions, routing and DRF run.

    The full stack costs a cached page a few milliseconds of Python and two SQL statements (the
    search_path and the token's user). This answers the same bytes with four Redis round trips
    and no SQL, and only when the full stack would give the same answer:

    - a GET with a Bearer token, for a URL whose view action is `fruitpak.cache.cached`, with
      the default authentication (TenantJWTAuthentication first);
    - a host Redis knows, of an active company (tenants.models.cached_company_for_host);
    - a token that verifies as the full stack verifies it (signature, expiry, type, company);
    - a current grant for the token's session, user and password: the database said yes to it
      since the last change to users, sessions or permissions (accounts/grants.py);
    - that grant's permission scope has the page cached: a request of the same scope passed
      the view's permission checks and stored it;
    - the view's throttles let the request through; they count it, as they would.

    Anything else goes on to the full stack, which also gives every refusal.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.authenticator = TenantJWTAuthentication()

    def __call__(self, request):
        response = None
        if request.method == "GET" and request.path_info.startswith("/api/") and "HTTP_AUTHORIZATION" in request.META:
            response = self.cached_page(request)
        return response or self.get_response(request)

    def cached_page(self, request):
        view = cached_list_view(request.path_info)
        if view is None:
            return None
        try:
            hostname = TenantMiddleware.hostname_from_request(request)
        except DisallowedHost:
            return None
        connection.set_schema_to_public()
        company = cached_company_for_host(hostname)
        if company is None or not company.is_active or company.schema_name == get_public_schema_name():
            return None
        connection.set_tenant(company)
        token = self.verified_token(request)
        if token is None:
            return None
        scope, namespace_generations = grants.lookup(token, view.cache_namespaces)
        if scope is None:
            return None
        entry = cache.get(page_key(view.cache_namespaces, request, scope, namespace_generations))
        if entry is None:
            return None
        if not view.throttles_allow(request, token):
            request.throttles_counted = True  # the full stack refuses it, without counting it twice
            return None
        return cached_response(entry)

    def verified_token(self, request):
        raw_token = self.authenticator.get_raw_token(self.authenticator.get_header(request))
        if raw_token is None:
            return None
        try:
            return self.authenticator.get_validated_token(raw_token)
        except AuthenticationFailed:
            return None


class CachedListView:
    """What CachedPageMiddleware needs of a view: its cache namespaces and its throttles."""

    def __init__(self, view_class, namespaces):
        self.view_class = view_class
        self.cache_namespaces = namespaces

    def throttles_allow(self, request, token):
        # What a throttle reads of a request: the user's id (authenticated) and, for anonymous ones, META.
        counted = SimpleNamespace(user=TokenUser(token), META=request.META)
        view = self.view_class()
        # Every throttle counts the request, as DRF's check_throttles does, before any refusal counts.
        return all([throttle.allow_request(counted, view) for throttle in view.get_throttles()])


class TokenUser:
    is_authenticated = True

    def __init__(self, token):
        self.pk = token[jwt_settings.USER_ID_CLAIM]


def cached_list_view(path):
    """The CachedListView serving GET `path` on a company's host, or None if that list is not cached."""
    try:
        match = resolve(path, urlconf=settings.ROOT_URLCONF)
    except Resolver404:
        return None
    view_class, actions = getattr(match.func, "cls", None), getattr(match.func, "actions", None) or {}
    action = getattr(view_class, actions.get("get", ""), None)
    namespaces = getattr(action, "cache_namespaces", None)
    if not namespaces or not uses_default_authentication(view_class):
        return None
    return CachedListView(view_class, namespaces)


def uses_default_authentication(view_class):
    return bool(view_class.authentication_classes) and view_class.authentication_classes[0] is TenantJWTAuthentication
