"""API throttles: per client address for anonymous requests, per user for authenticated ones.

DRF's own classes read their rates once, at import; these read
REST_FRAMEWORK's rates at each request, so that a changed setting (a test's
override_settings) takes effect.

They count instead of logging: DRF's SimpleRateThrottle keeps every
request's time in a list it reads, unpickles, extends, pickles and writes
back on each request (1,200 floats at the default user rate: two round
trips and ~10 kB each way). Here a request is one increment of a counter
that lives for one window, opened by the window's first request: at most
`num_requests` per `duration` seconds from then. INCR and EXPIRE NX go in
one MULTI/EXEC, one round trip, so a counter never lives without its
expiry (EXPIRE NX needs Redis 7). When the window closes the count starts
again. Retry-After is the counter's remaining lifetime, read only when
refusing.

The counters live in the default cache (Redis), under its keys. When Redis
is down, or there is no Redis, the count is None and the request goes
through: it fails open rather than 500.
"""

from django.core.cache import caches
from django_redis.cache import RedisCache
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def count_request(key, seconds):
    """Count one request in the window of `key` (opened for `seconds`), in one round trip: the count, or None."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = backend.client
    redis_key = client.make_key(key)
    try:
        pipeline = client.get_client(write=True).pipeline(transaction=True)
        pipeline.incr(redis_key)
        pipeline.expire(redis_key, seconds, nx=True)
        return pipeline.execute()[0]
    except RedisError:
        return None


class CountingThrottleMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # core.fastpath.middleware.CachedPageMiddleware counted this request already (it refuses nothing itself).
        if getattr(request, "throttles_counted", False):
            count = self.cache.get(self.key)
        else:
            count = count_request(self.key, self.duration)
        if count is None or count <= self.num_requests:
            return True
        return self.throttle_failure()

    def wait(self):
        remaining = self.cache.ttl(self.key)
        return remaining if remaining and remaining > 0 else self.duration


class AnonThrottle(CountingThrottleMixin, AnonRateThrottle):
    pass


class UserThrottle(CountingThrottleMixin, UserRateThrottle):
    pass
