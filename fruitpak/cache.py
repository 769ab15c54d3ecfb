"""Cache generations: how a write makes every cached page of a namespace stale.

A cached page's key includes its namespace's generation number (see
`generation`). A service that changes data calls `bump` once per write; the
increment happens only if the transaction commits. Old pages are never
deleted, they just stop being asked for and expire. No KEYS, no
delete_pattern. The keys are tenant-prefixed by the cache's key function.
"""

import logging

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)


def _key(namespace):
    return f"gen:{namespace}"


def generation(namespace):
    """The namespace's current generation (1 when unknown, or when Redis is down)."""
    return cache.get(_key(namespace)) or 1


def bump(*namespaces):
    """After commit, make every cached page of these namespaces stale."""
    def increment():
        for namespace in namespaces:
            key = _key(namespace)
            try:
                # add() is a no-op if the key exists; incr() is atomic in Redis.
                cache.add(key, 1, timeout=None)
                cache.incr(key)
            except ValueError:
                # The key vanished between add and incr (eviction) or the cache is off.
                cache.set(key, 2, timeout=None)

    transaction.on_commit(increment)
