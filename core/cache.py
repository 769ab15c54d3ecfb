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

from core import metrics
from core.fastpath import formats

log = logging.getLogger(__name__)

TTL = 300

# Set by core.fastpath's middleware on every request it passes down: it stores the request's cached page on
# its way out, with every header the stack gives it, and grants are worth making.
FAST_PATH_ABOVE = "fast_path_above"


def make_key(key, key_prefix, version):
    """The cache's KEY_FUNCTION: the key in the current schema's keyspace (the format of django_tenants.cache)."""
    return formats.schema_key(connection.schema_name, key, key_prefix, version)


def generation(namespace):
    """The namespace's current generation (1 when unknown, or when Redis is down)."""
    return cache.get(formats.generation_key(namespace)) or formats.FIRST_GENERATION


def generations(namespaces):
    """The generations of several namespaces, in one round trip."""
    return generations_and_entries(namespaces, [])[0]


def generations_and_entries(namespaces, keys):
    """The namespaces' generations and the cached values of `keys` (None when missing), in one round trip."""
    names = [formats.generation_key(namespace) for namespace in namespaces]
    found = cache.get_many([*names, *keys])
    return [found.get(name) or formats.FIRST_GENERATION for name in names], [found.get(key) for key in keys]


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
        key = formats.generation_key(namespace)
        try:
            # add() is a no-op if the key exists; incr() is atomic in Redis.
            cache.add(key, formats.FIRST_GENERATION, timeout=None)
            cache.incr(key)
        except ValueError:
            # The key vanished between add and incr (eviction) or the cache is off.
            cache.set(key, formats.FIRST_GENERATION + 1, timeout=None)


def bump(*namespaces):
    """After commit, make every cached page of these namespaces stale."""
    transaction.on_commit(functools.partial(increment, *namespaces))


def permission_scope(user):
    """What a user may see, as a short digest: users with the same permissions share cached pages."""
    perms = ",".join(sorted(user.get_all_permissions()))
    return hashlib.sha256(f"{user.is_superuser}|{perms}".encode()).hexdigest()[:16]


def _versions(namespaces):
    return formats.versions(namespaces, generations(namespaces))


def cached_data(name, namespaces, parts, compute):
    """compute()'s plain data, cached for TTL seconds under the namespaces' generations and `parts`."""
    # The key function prefixes the schema too; naming it in the key as well costs nothing.
    key = formats.data_key(name, connection.schema_name, _versions(namespaces), parts)
    data = cache.get(key)
    namespace = metrics.CACHED_DATA_NAMESPACE.get(name)
    if namespace is not None and (data is not None or name not in metrics.OUTER_CACHED_DATA):
        metrics.cache_lookup(namespace, data is not None)
    if data is None:
        data = compute()
        cache.set(key, data, TTL)
    return data


def normalized_query(request):
    """The query string with its parameters sorted by name (?b=2&a=1 is ?a=1&b=2); repeated values keep order."""
    if not request.META.get("QUERY_STRING"):
        return ""
    return urlencode(sorted(request.GET.lists()), doseq=True)


def page_key(namespaces, request, scope, name=formats.PAGE):
    """The cache key of a list page: the namespaces' generations, the path, the normalized query, the scope."""
    return formats.page_key(name, connection.schema_name, _versions(namespaces), *page_key_parts(request), scope)


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

    Only a 200 is stored, as its bytes and headers. Below core.fastpath's
    middleware (FAST_PATH_ABOVE), the action marks it with `page_cache_key`
    and the middleware stores it as it leaves the stack, with every header;
    it also answers repeated requests for these pages before the stack
    (`cache_namespaces` on the action tells it which). Without the
    middleware (CACHED_PAGE_FAST_PATH off), the view stores the page once
    DRF has rendered it, under another name, and the stack adds its own
    headers each time it serves one: a page the middleware could answer
    always carries the whole stack's headers.
    """
    counted_as = "+".join(namespaces)

    def decorate(action):
        @functools.wraps(action)
        def wrapper(view, request, *args, **kwargs):
            above = getattr(request, FAST_PATH_ABOVE, False)
            name = formats.PAGE if above else formats.VIEW_PAGE
            key = page_key(namespaces, request, permission_scope(request.user), name)
            hit = cache.get(key)
            metrics.cache_lookup(counted_as, hit is not None)
            if hit is not None:
                return cached_response(hit)
            response = action(view, request, *args, **kwargs)
            if above:
                response.page_cache_key = key
            else:
                response.add_post_render_callback(functools.partial(_store_rendered, key))
            return response

        wrapper.cache_namespaces = namespaces
        return wrapper

    return decorate


def _store_rendered(key, response):
    if response.status_code == 200:
        store_page(key, response)


def store_page(key, response, leave_out=()):
    """Cache a response's bytes and headers under `key` for TTL seconds, without the headers named in leave_out."""
    headers = [(name, value) for name, value in response.headers.items() if name not in leave_out]
    cache.set(key, (response.content, headers), TTL)
