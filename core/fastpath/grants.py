"""Grants: the database's yes about a Bearer token's session, remembered in Redis for the middleware.

GrantingAuthentication asks the database on every request whether a token
still stands (its subclass, accounts' TenantJWTAuthentication, says how).
For a GET of a cached list it also remembers the yes as a grant for the
token's session, with the user's permission scope, so that the middleware
can answer that list later without the database.

A grant counts only while four generations are those it was made under:
the company's `auth`, the `hosts` one, the user's and the session's. Its
generations are read before the database is asked, so a grant never claims
a generation newer than the answer it holds.

Invalidation is not left to each writer. Every write to a table that answer
reads passes through the database connection, where core/write_watch.py
sees it (services, admin, QuerySet.update(), cascades, raw SQL through
Django). accounts names the tables (`watch`). A write made inside
`retiring(user_id=...)` or `retiring(session_id=...)` bumps only that user's
or that session's generation; any other write, and any write to groups,
permissions or content types, bumps the company's. Each bump happens at once
and again after the commit: a request between the two may make a grant from
what it read before the commit, and the second bump retires it.

A write made outside Django (psql), or a bump lost while Redis was down, is
not seen: a grant lives GRANT_TTL seconds at most. A user's or a session's
generation is a random value, drawn anew by each bump and by `read` when
Redis has none, so a grant matches only while Redis still holds the very
value it read: one that expired or was evicted matches no grant. It lives
SCOPED_GENERATION_TTL seconds, so that ended sessions' keys go; when it
lapses, the next request through the stack draws another (and makes a new
grant).
"""

import contextlib
import contextvars
import functools
import logging
from dataclasses import dataclass

from django.core.cache import caches
from django.db import connection, transaction
from django_redis.cache import RedisCache
from django_tenants.utils import schema_context
from redis.exceptions import RedisError
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from core import write_watch
from core.cache import FAST_PATH_ABOVE, increment, permission_scope

from . import formats

log = logging.getLogger(__name__)

GRANT_TTL = 60
SCOPED_GENERATION_TTL = 3600


class GrantingAuthentication(JWTAuthentication):
    """simplejwt's authentication, remembering the database's yes to a GET of a cached list as a grant.

    The middleware answers a view only when its first authenticator is one of these: grants vouch for what
    this class checks, and a subclass must check (get_validated_token, get_user) what a grant stands for.
    """

    def authenticate(self, request):
        raw_token = self.get_raw_token(self.get_header(request) or b"")
        if raw_token is None:
            return None
        token = self.get_validated_token(raw_token)
        tenant = getattr(request, "tenant", None)
        hosts_generation = getattr(tenant, "hosts_generation", None)
        wanted = (request.method == "GET" and hosts_generation and getattr(request, FAST_PATH_ABOVE, False)
                  and answers_cached_pages(request))
        # Read before the database is asked; written only when the answer differs from what Redis holds.
        before = read(token) if wanted else None
        user = self.get_user(token)
        if before is not None:
            remember(token, user, before, hosts_generation=hosts_generation, hostname=tenant.domain_url)
        return user, token


def answers_cached_pages(request):
    """Whether the view's action is a cached list (core.cache.cached): only those are answered from grants."""
    view = (request.parser_context or {}).get("view")
    action = getattr(view, getattr(view, "action", None) or "", None)
    return getattr(action, "cache_namespaces", None) is not None


@dataclass(frozen=True)
class Before:
    """What Redis held before the database was asked: the generations a new grant is made under, and the grant."""

    auth: str
    user: str
    session: str
    grant: bytes | None


def read(token):
    """The token's generations and its session's grant, in one round trip; None when Redis cannot say.

    A user's or a session's generation Redis lacks is drawn here (SET NX): a grant only ever holds one that
    Redis held, so one that expired or was evicted matches no grant.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = backend.client
    pipeline = client.get_client(write=True).pipeline(transaction=False)
    pipeline.mget([client.make_key(formats.generation_key(formats.AUTH)),
                   client.make_key(formats.grant_key(token.get("sid")))])
    drawn = [formats.new_scoped_generation(), formats.new_scoped_generation()]
    scoped = (formats.user_generation_key(token.get(jwt_settings.USER_ID_CLAIM)),
              formats.session_generation_key(token.get("sid")))
    for key, generation in zip(scoped, drawn, strict=True):
        pipeline.set(client.make_key(key), generation, nx=True, get=True, ex=SCOPED_GENERATION_TTL)
    try:
        (auth, grant), user, session = pipeline.execute()
    except RedisError:
        return None
    return Before(
        auth=str(formats.FIRST_GENERATION) if auth is None else auth.decode(),
        user=drawn[0] if user is None else user.decode(),
        session=drawn[1] if session is None else session.decode(),
        grant=grant,
    )


def remember(token, user, before, *, hosts_generation, hostname):
    """The database said yes to `token` for `user` on `hostname`: remember it for GRANT_TTL seconds.

    `before` is what `read` found before the database was asked; `hosts_generation` was read before the
    hostname was looked up. The hostname stands for the host lookup: the grant was made on a host that
    served this token's company, and any change to companies or domains bumps the hosts generation.
    """
    asker = formats.who(hostname, token.get(jwt_settings.USER_ID_CLAIM), token.get(jwt_settings.REVOKE_TOKEN_CLAIM))
    if asker is None:
        return
    text = formats.grant_text(auth=before.auth, hosts=hosts_generation, user=before.user, session=before.session,
                              asker=asker, scope=permission_scope(user))
    if text.encode() == before.grant:
        return
    backend = caches["default"]
    try:
        backend.client.get_client(write=True).set(
            backend.client.make_key(formats.grant_key(token.get("sid"))), text, ex=GRANT_TTL)
    except RedisError:
        log.warning("Could not store a grant: Redis is unreachable.")


# --- Retiring grants ------------------------------------------------------------------------------------

USER, SESSION = "user", "session"


@dataclass(frozen=True)
class Scope:
    kind: str
    key: str


_open_scopes = contextvars.ContextVar("fastpath_retiring", default=())


@contextlib.contextmanager
def retiring(*, user_id=None, session_id=None):
    """The writes to auth tables made inside concern this one user, or this one session, and nobody else.

    They retire only that user's (or session's) grants instead of the company's. The caller vouches for
    that; a write to a table a scope cannot speak for (a group's permissions) still retires the company's.
    """
    if (user_id is None) == (session_id is None):
        raise TypeError("retiring() takes one user_id or one session_id.")
    scope = (Scope(USER, formats.user_generation_key(user_id)) if session_id is None
             else Scope(SESSION, formats.session_generation_key(session_id)))
    opened = _open_scopes.set((*_open_scopes.get(), scope))
    try:
        yield
    finally:
        _open_scopes.reset(opened)


def watch(*, sessions, users, company, harmless_inserts=()):
    """Retire grants on every write to what the database's answer reads (core/write_watch.py).

    `sessions`: tables of API sessions (a user's or a session's scope covers them); `users`: tables of a
    user's own rows (a user's scope covers them); `company`: tables whose rows reach many users (no scope
    covers them). `harmless_inserts`: tables whose new rows cannot take anything away from a grant.
    """
    write_watch.watch(sessions, retire_for_session_rows, harmless_inserts)
    write_watch.watch(users, retire_for_user_rows, harmless_inserts)
    write_watch.watch(company, retire_company)


def retire_for_session_rows(schema_name):
    retire(schema_name, covered_by={USER, SESSION})


def retire_for_user_rows(schema_name):
    retire(schema_name, covered_by={USER})


def retire(schema_name, *, covered_by):
    """The open scopes' grants that cover the written table are stale, or the company's when none does."""
    keys = [scope.key for scope in _open_scopes.get() if scope.kind in covered_by]
    if not keys:
        retire_company(schema_name)
        return
    bump = functools.partial(bump_scoped, schema_name, keys)
    bump()
    transaction.on_commit(bump)


def retire_company(schema_name):
    """Every grant of the schema's company is stale: now, and again once the current transaction commits."""
    def bump():
        if connection.schema_name == schema_name:
            increment(formats.AUTH)
        else:
            with schema_context(schema_name):
                increment(formats.AUTH)

    bump()
    transaction.on_commit(bump)


def bump_scoped(schema_name, keys):
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return
    try:
        pipeline = backend.client.get_client(write=True).pipeline(transaction=False)
        for key in keys:
            pipeline.set(formats.schema_key(schema_name, key, backend.key_prefix, backend.version),
                         formats.new_scoped_generation(), ex=SCOPED_GENERATION_TTL)
        pipeline.execute()
    except RedisError:
        log.warning("Could not retire grants: Redis is unreachable.")
