"""CachedPageMiddleware: cached API list pages, stored and answered at the top of the middleware stack.

The full stack costs a cached page about a millisecond of Python and two
SQL statements (the search_path, the token's user) before the page comes
out of Redis. This middleware sits at the top of the stack, above
django-guid (it gives its answers the request id django-guid would), and
answers a repeated GET of a cached list with one Redis round trip (answer.lua)
and no SQL, but only when the full stack would give the same answer:

- a GET with a Bearer token, for a URL whose view action is
  `core.cache.cached`, whose first authenticator is a GrantingAuthentication
  and whose throttles are ours, that takes JSON;
- a token that verifies as the full stack verifies it (signature, expiry,
  type), of a company other than the public schema;
- a current grant for the token's session, user and password, made on this
  hostname: the database said yes to it, on a host serving the token's
  company, since the last change to that user, that session, the company's
  permissions, companies or domains (grants.py);
- that grant's permission scope has the page cached: a request of the same
  scope passed the view's permission checks and stored it;
- the view's throttles let the request through; they count it here.

Anything else goes on to the full stack, which also gives every refusal.

The middleware also stores the pages: it marks every request it passes down
(FAST_PATH_ABOVE), a @cached action then marks its 200 (`page_cache_key`),
and the response is stored on its way out, with every header the stack gave
it but the request id. So a page answered here carries the same headers as
the full stack's (security headers, CSP, DRF's Allow), without running the
middleware that made them.

With CACHED_PAGE_FAST_PATH off it leaves the stack at start-up, and the view
stores and serves its pages itself (core.cache.cached).

The script reads keys it builds itself (the page's), so it needs one Redis
server, not a cluster; Redis 7 for EXPIRE NX.
"""

import functools
import hashlib
import logging
import time
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import DisallowedHost, MiddlewareNotUsed
from django.urls import Resolver404, resolve
from django_guid.config import settings as guid_settings
from django_guid.context import guid
from django_guid.utils import generate_guid, validate_guid
from django_redis.cache import RedisCache
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name
from redis.exceptions import NoScriptError, RedisError, ResponseError
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from core import metrics
from core.cache import FAST_PATH_ABOVE, cached_response, page_key_parts, store_page
from core.throttling import CountingThrottleMixin

from . import formats
from .grants import GrantingAuthentication

log = logging.getLogger(__name__)

ANSWER = (Path(__file__).parent / "answer.lua").read_text(encoding="utf-8")
ANSWER_SHA = hashlib.sha1(ANSWER.encode()).hexdigest()


def run_script(client, keys, arguments):
    """EVALSHA of ANSWER on one of the client's pooled connections; the script is sent when Redis lacks it.

    Straight on the connection, without redis-py's per-command retry and metrics layers: they were a
    quarter of the client's cost of the round trip. A failure is the caller's (the full stack answers).
    """
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        try:
            connection.send_command("EVALSHA", ANSWER_SHA, len(keys), *keys, *arguments)
            return connection.read_response()
        except NoScriptError:  # an error reply: the connection is still in step
            connection.send_command("EVAL", ANSWER, len(keys), *keys, *arguments)
            return connection.read_response()
    except ResponseError:  # an error reply, read whole: the connection is still in step
        raise
    except BaseException:
        connection.disconnect()  # never handed out again half-read
        raise
    finally:
        pool.release(connection)


class LocalPages:
    """Pages this process has fetched, by their full Redis key, so that a repeated request moves no page bytes.

    A page key names one page: the schema, the list's generations, the path, the query and the permission
    scope. The script still checks the grant and the generations on every request, computes the current key,
    and says whether it is the one held here. A copy is kept no longer than the Redis entry it came from had
    left to live. Bounded: when full, it starts again empty.
    """

    SIZE = 256

    def __init__(self):
        self.pages = {}
        self.held = {}

    def hint(self, asked):
        """The page key held for this (schema, session, path, query), if its copy is still alive, else ""."""
        key = self.held.get(asked, "")
        return key if self.page(key) is not None else ""

    def page(self, key):
        entry = self.pages.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def keep(self, asked, key, page, milliseconds):
        if milliseconds <= 0:
            return
        if len(self.pages) >= self.SIZE or len(self.held) >= 4 * self.SIZE:
            self.pages, self.held = {}, {}
        self.pages[key] = (time.monotonic() + milliseconds / 1000, page)
        self.held[asked] = key


class CachedPageMiddleware:
    def __init__(self, get_response):
        if not settings.CACHED_PAGE_FAST_PATH:
            raise MiddlewareNotUsed("CACHED_PAGE_FAST_PATH is off")
        self.get_response = get_response
        # Only to read the header as the full stack reads it: the token's checks are verified_token's.
        self.authenticator = JWTAuthentication()
        self.request_id_header = guid_settings.guid_header_name
        self.request_id_meta = "HTTP_" + self.request_id_header.upper().replace("-", "_")
        self.local_pages = LocalPages()

    def __call__(self, request):
        if request.method == "GET" and "HTTP_AUTHORIZATION" in request.META and request.path_info.startswith("/api/"):
            try:
                response = self.cached_page(request)
            except Exception:
                # A shortcut must never cost a request: the full stack answers, and the log says why.
                log.exception("A cached page was not answered before the stack")
                response = None
            if response is not None:
                response[self.request_id_header] = self.request_id(request)
                return response
        setattr(request, FAST_PATH_ABOVE, True)
        response = self.get_response(request)
        key = getattr(response, "page_cache_key", None)
        if key is not None and response.status_code == 200:
            store_page(key, response, leave_out=(self.request_id_header,))
        return response

    def cached_page(self, request):
        backend = caches["default"]
        view = cached_list_view(request.path_info)
        if view is None or not isinstance(backend, RedisCache) or not wants_json(request):
            return None
        try:
            hostname = TenantMainMiddleware.hostname_from_request(request)
        except DisallowedHost:
            return None
        token = self.verified_token(request)
        if token is None:
            return None
        user_id, session_id = token[jwt_settings.USER_ID_CLAIM], token["sid"]
        asker = formats.who(hostname, user_id, token[jwt_settings.REVOKE_TOKEN_CLAIM])
        if asker is None:
            return None
        schema = token["tenant"]

        def key(schema_name, name):
            return formats.schema_key(schema_name, name, backend.key_prefix, backend.version)

        path, query = page_key_parts(request)
        asked = (schema, session_id, path, query)
        held = self.local_pages.hint(asked)
        throttles = view.throttles_counting(request, token)
        keys = [
            key(get_public_schema_name(), formats.generation_key(formats.HOSTS)),
            key(schema, formats.generation_key(formats.AUTH)), key(schema, formats.grant_key(session_id)),
            key(schema, formats.user_generation_key(user_id)), key(schema, formats.session_generation_key(session_id)),
            *(key(schema, formats.generation_key(namespace)) for namespace in view.cache_namespaces),
            *(key(schema, throttle.key) for throttle in throttles),
        ]
        arguments = [
            asker, key(schema, formats.page_key_head(schema)), formats.page_digest_head(path, query), held,
            len(view.cache_namespaces), *view.cache_namespaces,
            *(value for throttle in throttles for value in (throttle.duration, throttle.num_requests)),
        ]
        try:
            answer = run_script(backend.client.get_client(write=True), keys, arguments)
        except RedisError as error:
            log.warning("A cached page was not answered from Redis: %s", error)
            return None
        if answer[0] < 2:
            return None
        # The throttles have counted this request: the full stack must not count it again.
        request.throttles_counted = True
        if answer[1]:
            return None
        if answer[0] == 3:
            page = self.local_pages.page(held)
        else:
            page = backend.client.decode(answer[2])
            self.local_pages.keep(asked, answer[3].decode(), page, answer[4])
        if page is None:
            return None
        # Counted here: this answer never reaches core.cache.cached, and the view is never resolved.
        metrics.fast_path_answer(view.counted_as)
        request.fast_path_view = view.view_name
        return cached_response(page)

    def request_id(self, request):
        """What django-guid's middleware (below this one) would give the request: the client's valid id, or a new one.

        Set for the log lines of the request too, as the middleware does.
        """
        given = request.META.get(self.request_id_meta)
        request_id = given if given and (not guid_settings.validate_guid or validate_guid(given)) else generate_guid()
        guid.set(request_id)
        return request_id

    def verified_token(self, request):
        raw_token = self.authenticator.get_raw_token(self.authenticator.get_header(request))
        if raw_token is None:
            return None
        try:
            token = signature_checked(raw_token)
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            return None
        claims = ("tenant", "sid", jwt_settings.USER_ID_CLAIM, jwt_settings.REVOKE_TOKEN_CLAIM)
        if any(token.get(claim) is None for claim in claims) or token["tenant"] == get_public_schema_name():
            return None
        return token


JSON_RANGES = {"*/*", "application/*", "application/json"}


def wants_json(request):
    """Whether DRF would answer this request with JSON, the only renderer: no format override, and an Accept
    that is absent or takes JSON plainly. Anything else (a 406, a 404 for ?format=xml) is the full stack's."""
    if "format=" in request.META.get("QUERY_STRING", ""):
        return False
    accept = request.META.get("HTTP_ACCEPT")
    if not accept:
        return True
    for media_range in accept.split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        if media_type in JSON_RANGES and all(parameter.startswith("q=") for parameter in parameters):
            return True
    return False


@functools.lru_cache(maxsize=1024)
def signature_checked(raw_token):
    """The access token, decoded and verified once per process (PyJWT checks every character of every segment).

    Only a token that verifies is kept (a raised error is never cached), keyed by its whole text, signature
    included. Its expiry is checked again on every use; whether it was revoked is the grant's business.
    """
    return AccessToken(raw_token)


class CachedListView:
    """What CachedPageMiddleware needs of a view: its cache namespaces and its throttles."""

    def __init__(self, view_class, namespaces, view_name):
        self.view_class = view_class
        self.cache_namespaces = namespaces
        self.counted_as = "+".join(namespaces)
        # The URL pattern's name, as core.metrics labels the full stack's answers for the same list.
        self.view_name = view_name

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
    return _cached_list_view(path, settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=512)
def _cached_list_view(path, urlconf):
    # Kept per path: URL patterns do not change while a process runs. Any path may be asked for, so the
    # cache is bounded; an evicted path is only resolved again.
    try:
        match = resolve(path, urlconf=urlconf)
    except Resolver404:
        return None
    view_class, actions = getattr(match.func, "cls", None), getattr(match.func, "actions", None) or {}
    action = getattr(view_class, actions.get("get", ""), None)
    namespaces = getattr(action, "cache_namespaces", None)
    if not namespaces:
        return None
    authenticators = list(view_class.authentication_classes)
    if not authenticators or not issubclass(authenticators[0], GrantingAuthentication):
        return None
    if not all(issubclass(throttle, CountingThrottleMixin) for throttle in view_class.throttle_classes):
        return None
    return CachedListView(view_class, namespaces, match.view_name)
