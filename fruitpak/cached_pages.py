"""Cached API list pages, stored and answered at the top of the middleware stack.

The full stack costs a cached page about a millisecond of Python and two
SQL statements (the search_path, the token's user) before the page comes
out of Redis. CachedPageMiddleware sits just below the request id and
answers a repeated GET of a cached list with three Redis round trips and
no SQL, but only when the full stack would give the same answer:

- a GET with a Bearer token, for a URL whose view action is
  `fruitpak.cache.cached`, whose first authenticator is
  TenantJWTAuthentication and whose throttles are ours;
- a host Redis knows, of an active company (tenants.models.cached_company_for_host);
- a token that verifies as the full stack verifies it (signature, expiry,
  type, company);
- a current grant for the token's session, user and password: the database
  said yes to it since the last change to users, sessions or permissions
  (accounts/grants.py);
- that grant's permission scope has the page cached: a request of the same
  scope passed the view's permission checks and stored it;
- the view's throttles let the request through; they count it here.

Anything else goes on to the full stack, which also gives every refusal.

The middleware also stores the pages: a @cached action marks its 200
(`page_cache_key`), and the response is stored on its way out, with every
header the stack gave it but the request id. So a page answered here
carries the same headers as the full stack's (security headers, CSP, DRF's
Allow), without running the middleware that made them.
"""

import functools
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.urls import Resolver404, resolve
from django_tenants.utils import get_public_schema_name
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts import grants
from accounts.authentication import TenantJWTAuthentication, check_tenant
from tenants.models import cached_company_for_host

from .cache import cached_response, page_key, store_page
from .middleware import TenantMiddleware
from .throttling import CountingThrottleMixin, count_requests


class CachedPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.authenticator = TenantJWTAuthentication()
        self.request_id_header = settings.DJANGO_GUID["GUID_HEADER_NAME"]

    def __call__(self, request):
        if request.method == "GET" and "HTTP_AUTHORIZATION" in request.META and request.path_info.startswith("/api/"):
            response = self.cached_page(request)
            if response is not None:
                return response
        response = self.get_response(request)
        key = getattr(response, "page_cache_key", None)
        if key is not None and response.status_code == 200:
            store_page(key, response, leave_out=(self.request_id_header,))
        return response

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
        key = page_key(view.cache_namespaces, request, scope, namespace_generations)
        throttles = view.throttles_counting(request, token)
        counted = count_requests([throttle.window() for throttle in throttles], also_get=key)
        if counted is None:
            return None
        counts, entry = counted
        # From here the throttles have counted this request: the full stack must not count it again.
        request.throttles_counted = True
        refused = any(count > throttle.num_requests for throttle, count in zip(throttles, counts, strict=True))
        if entry is None or refused:
            return None
        return cached_response(entry)

    def verified_token(self, request):
        raw_token = self.authenticator.get_raw_token(self.authenticator.get_header(request))
        if raw_token is None:
            return None
        try:
            token = signature_checked(raw_token)
            token.check_exp(current_time=aware_utcnow())
            check_tenant(token)
        except (TokenError, AuthenticationFailed):
            return None
        return token


@functools.lru_cache(maxsize=1024)
def signature_checked(raw_token):
    """The access token, decoded and verified once per process (PyJWT checks every character of every segment).

    Only a token that verifies is kept (a raised error is never cached), keyed by its whole text, signature
    included. Its expiry is checked again on every use; whether it was revoked is the grant's business.
    """
    return AccessToken(raw_token)


class CachedListView:
    """What CachedPageMiddleware needs of a view: its cache namespaces and its throttles."""

    def __init__(self, view_class, namespaces):
        self.view_class = view_class
        self.cache_namespaces = namespaces

    def throttles_counting(self, request, token):
        """The view's throttles that count this request, each with its key set, as DRF would set it."""
        # What a throttle reads of a request: the user's id when authenticated, META otherwise.
        counted = SimpleNamespace(user=TokenUser(token), META=request.META)
        view = self.view_class()
        throttles = []
        for throttle in view.get_throttles():
            throttle.key = throttle.get_cache_key(counted, view) if throttle.rate is not None else None
            if throttle.key is not None:
                throttles.append(throttle)
        return throttles


class TokenUser:
    is_authenticated = True

    def __init__(self, token):
        self.pk = token[jwt_settings.USER_ID_CLAIM]


def cached_list_view(path):
    """The CachedListView serving GET `path` on a company's host, or None if that list is not answered here."""
    try:
        match = resolve(path, urlconf=settings.ROOT_URLCONF)
    except Resolver404:
        return None
    view_class, actions = getattr(match.func, "cls", None), getattr(match.func, "actions", None) or {}
    action = getattr(view_class, actions.get("get", ""), None)
    namespaces = getattr(action, "cache_namespaces", None)
    if not namespaces or list(view_class.authentication_classes)[:1] != [TenantJWTAuthentication]:
        return None
    if not all(issubclass(throttle, CountingThrottleMixin) for throttle in view_class.throttle_classes):
        return None
    return CachedListView(view_class, namespaces)
