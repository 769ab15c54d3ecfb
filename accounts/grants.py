"""Grants: the database's answer about a Bearer token's session, remembered in Redis.

TenantJWTAuthentication asks the database on every request whether a token
still stands: the user is active, the API session ("sid") is not revoked,
the password is the one the token was minted under, and what the user may
do. A grant remembers a yes for one API session, with the user's permission
scope, so that core.cached_pages.CachedPageMiddleware can answer a cached
list page without the database.

A grant is only as safe as its invalidation, so it is not left to each
writer. Every write to a table that answer reads (users, API sessions,
group memberships, user and group permissions, groups, permissions, content
types) passes through the database connection, where core/write_watch.py
sees it and bumps the company's "auth" generation: the admin, the services,
QuerySet.update(), cascading deletes and raw SQL through Django alike. A
grant stores the generation it was made under and counts only while that
is still current. The bump happens at once and again after the commit
(as for the host cache): a request between the two may make a grant from
what it read before the commit, and the second bump retires it.

A grant's generation is read before the database is asked, so a grant can
never carry a generation newer than the answer it holds. A write made
outside Django (psql) is not seen: grants live GRANT_TTL seconds at most.
Inserting an API session or a user is the one write skipped: neither can
take anything away from an existing grant (a login inserts a session, and
must not retire every grant of the company).
"""

import logging

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db import connection, transaction
from django_redis.cache import RedisCache
from django_tenants.utils import schema_context
from redis.exceptions import RedisError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from core import write_watch
from core.cache import generation_key, increment, permission_scope

from .models import ApiSession, User

log = logging.getLogger(__name__)

AUTH = "auth"
GRANT_TTL = 60


def watch_writes():
    """Forget a company's grants on every write to what the database's answer reads (core/write_watch.py)."""
    tables = [
        User._meta.db_table, ApiSession._meta.db_table, User.groups.through._meta.db_table,
        User.user_permissions.through._meta.db_table, Group.permissions.through._meta.db_table,
        Group._meta.db_table, Permission._meta.db_table, ContentType._meta.db_table,
    ]
    write_watch.watch(tables, forget_grants, harmless_inserts=[User._meta.db_table, ApiSession._meta.db_table])


def forget_grants(schema_name):
    """Every grant of the schema's company is stale: now, and again once the current transaction commits."""
    def bump():
        if connection.schema_name == schema_name:
            increment(AUTH)
        else:
            with schema_context(schema_name):
                increment(AUTH)

    bump()
    transaction.on_commit(bump)


def grant_key(session_id):
    return f"grant:{session_id}"


def read(token):
    """The company's auth generation and the session's grant as Redis holds it, in one round trip, or None.

    Read before the database is asked about the token, so that a grant never claims a generation newer than the
    answer it holds.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = backend.client
    try:
        stored_generation, stored = client.get_client(write=False).mget(
            [client.make_key(generation_key(AUTH)), client.make_key(grant_key(token.get("sid")))])
    except RedisError:
        return None
    return (1 if stored_generation is None else client.decode(stored_generation)), stored


def who(hostname, token):
    """Who a grant is for, as one text: the hostname, the user id and the password claim, one per line.

    None when a part is missing or could break the lines apart.
    """
    parts = (hostname, token.get(jwt_settings.USER_ID_CLAIM), token.get(jwt_settings.REVOKE_TOKEN_CLAIM))
    if any(part is None or "\n" in str(part) or not str(part) for part in parts):
        return None
    return "\n".join(map(str, parts))


def remember(token, user, before, *, hosts_generation, hostname):
    """The database said yes to `token` for `user` on `hostname`: remember it for GRANT_TTL seconds.

    `before` is what `read` found before the database was asked: the auth generation, and the grant
    already stored (rewritten only when it differs). `hosts_generation` was read before the hostname was
    looked up. The grant counts only while both generations are current, for the same session, user
    and password claim, on the same hostname. The hostname stands for the host lookup: a grant was made
    on a host that served this token's company, and any change to companies or domains bumps the hosts
    generation.

    Stored as plain text, one field per line (the generations, `who`, the scope), because
    core/cached_pages.py reads it inside Redis.
    """
    auth_generation, stored = before
    asker = who(hostname, token)
    if asker is None:
        return
    text = f"{auth_generation}\n{hosts_generation}\n{asker}\n{permission_scope(user)}"
    if text.encode() == stored:
        return
    backend = caches["default"]
    try:
        backend.client.get_client(write=True).set(backend.client.make_key(grant_key(token.get("sid"))), text,
                                                  ex=GRANT_TTL)
    except RedisError:
        log.warning("Could not store a grant: Redis is unreachable.")
