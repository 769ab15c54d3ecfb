"""Cache generations, and the cached list pages and aggregates built on them.

A cached page's key includes its namespace's generation number (see
`generation`). A service that changes data calls `bump` once per write; the
increment happens only if the transaction commits. Old pages are never
deleted, they just stop being asked for and expire. No KEYS, no
delete_pattern. The keys are tenant-prefixed by the cache's key function,
`make_key`.
"""

import functools
import hashlib
import logging

from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils.http import urlencode

log = logging.getLogger(__name__)

TTL = 300


def make_key(key, key_prefix, version):
    """The cache's KEY_FUNCTION: the key in the current schema's keyspace (the format of django_tenants.cache)."""
    return schema_key(connection.schema_name, key, key_prefix, version)


def schema_key(schema_name, key, key_prefix, version):
    """`key` as stored in Redis for that schema, whatever schema the connection is on now."""
    return f"{schema_name}:{key_prefix}:{version}:{key}"


def generation_key(namespace):
    return f"gen:{namespace}"


def generation(namespace):
    """The namespace's current generation (1 when unknown, or when Redis is down)."""
    return cache.get(generation_key(namespace)) or 1


def generations(namespaces):
    """The generations of several namespaces, in one round trip."""
    return generations_and_entries(namespaces, [])[0]


def generations_and_entries(namespaces, keys):
    """The namespaces' generations and the cached values of `keys` (None when missing), in one round trip."""
    found = cache.get_many([*(generation_key(namespace) for namespace in namespaces), *keys])
    return [found.get(generation_key(namespace)) or 1 for namespace in namespaces], [found.get(key) for key in keys]


def stamped(generation, value):
    """A value to cache under a fixed key, valid only while its namespace stays at `generation`.

    The key then needs no generation of its own, so the generation and the
    entry can be read together (generations_and_entries) instead of one after the other.
    """
    return (generation, value)


def unstamped(entry, generation):
    """The value of a stamped entry, or None when it is missing or of another generation."""
    if entry is None or entry[0] != generation:
        return None
    return entry[1]


def increment(*namespaces):
    """Make every cached page of these namespaces stale now; `bump` is what services call."""
    for namespace in namespaces:
        key = generation_key(namespace)
        try:
            # add() is a no-op if the key exists; incr() is atomic in Redis.
            cache.add(key, 1, timeout=None)
            cache.incr(key)
        except ValueError:
            # The key vanished between add and incr (eviction) or the cache is off.
            cache.set(key, 2, timeout=None)


def bump(*namespaces):
    """After commit, make every cached page of these namespaces stale."""
    transaction.on_commit(functools.partial(increment, *namespaces))


def permission_scope(user):
    """What a user may see, as a short digest: users with the same permissions share cached pages."""
    perms = ",".join(sorted(user.get_all_permissions()))
    return hashlib.sha256(f"{user.is_superuser}|{perms}".encode()).hexdigest()[:16]


def _data_key(name, namespaces, parts):
    versions = ",".join(f"{ns}.{gen}" for ns, gen in zip(namespaces, generations(namespaces), strict=True))
    # SHA-1 because core/cached_pages.py computes the same digest in Redis (redis.sha1hex).
    digest = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:32]
    # The key function prefixes the schema too; naming it here as well costs nothing.
    return f"{name}:{connection.schema_name}:{versions}:{digest}"


def cached_data(name, namespaces, parts, compute):
    """compute()'s plain data, cached for TTL seconds under the namespaces' generations and `parts`."""
    key = _data_key(name, namespaces, parts)
    data = cache.get(key)
    if data is None:
        data = compute()
        cache.set(key, data, TTL)
    return data


def normalized_query(request):
    """The query string with its parameters sorted by name (?b=2&a=1 is ?a=1&b=2); repeated values keep order."""
    if not request.META.get("QUERY_STRING"):
        return ""
    return urlencode(sorted(request.GET.lists()), doseq=True)


PAGE = "response"


def page_key(namespaces, request, scope):
    """The cache key of a list page: the namespaces' generations, the path, the normalized query, the scope.

    core/cached_pages.py builds the same key inside Redis; a change here is a change there.
    """
    return _data_key(PAGE, namespaces, (*page_key_parts(request), scope))


def page_key_parts(request):
    return request.path_info, normalized_query(request)


def cached_response(entry):
    """The response a cached page stands for: its bytes and its headers."""
    body, headers = entry
    response = HttpResponse(body)
    for name, value in headers:
        response[name] = value
    return response


def cached(*namespaces):
    """Cache a DRF list action's rendered JSON for TTL seconds.

    The key holds the schema, the namespaces' generations, the path, the
    normalized query and the user's permission scope. DRF has already
    authenticated the user and checked permissions before the action runs,
    so a refused request never reaches the cache.

    Only a 200 is stored, by core.cached_pages.CachedPageMiddleware as
    the response leaves the stack: its bytes and its headers. The action
    marks it with `page_cache_key`. The middleware also answers repeated
    requests for these pages before the stack; `cache_namespaces` on the
    action tells it which.
    """
    def decorate(action):
        @functools.wraps(action)
        def wrapper(view, request, *args, **kwargs):
            key = page_key(namespaces, request, permission_scope(request.user))
            hit = cache.get(key)
            if hit is not None:
                return cached_response(hit)
            response = action(view, request, *args, **kwargs)
            response.page_cache_key = key
            return response

        wrapper.cache_namespaces = namespaces
        return wrapper

    return decorate


def store_page(key, response, leave_out=()):
    """Cache a response's bytes and headers under `key` for TTL seconds, without the headers named in leave_out."""
    headers = [(name, value) for name, value in response.headers.items() if name not in leave_out]
    cache.set(key, (response.content, headers), TTL)
