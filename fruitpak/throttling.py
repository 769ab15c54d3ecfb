"""API throttles: per client address for anonymous requests, per user for authenticated ones.

DRF's own classes read their rates once, at import; these read
REST_FRAMEWORK's rates at each request, so that a changed setting (a test's
override_settings) takes effect.

They count instead of logging: DRF's SimpleRateThrottle keeps every
request's time in a list it reads, unpickles, extends, pickles and writes
back on each request (1,200 floats at the default user rate: two round
trips and ~10 kB each way). Here a request is one atomic increment of a
counter that lives for one window, opened by the window's first request:
at most `num_requests` per `duration` seconds from then. When the window
closes the count starts again. Retry-After is the counter's remaining
lifetime, read only when refusing.

The counters live in the default cache (Redis). When Redis is down,
django-redis ignores the error (the increment answers None) and the request
goes through: it fails open rather than 500.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class CountingThrottleMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # CachedPageMiddleware counted this request already before handing it on (it refuses nothing itself).
        count = self.cache.get(self.key) if getattr(request, "throttles_counted", False) else self._count()
        if count is None or count <= self.num_requests:
            return True
        return self.throttle_failure()

    def _count(self):
        try:
            return self.cache.incr(self.key)
        except ValueError:  # no window open for this client: this request opens one
            if self.cache.add(self.key, 1, timeout=self.duration):
                return 1
        try:  # another request opened it in between
            return self.cache.incr(self.key)
        except ValueError:
            return None

    def wait(self):
        remaining = self.cache.ttl(self.key)
        return remaining if remaining and remaining > 0 else self.duration


class AnonThrottle(CountingThrottleMixin, AnonRateThrottle):
    pass


class UserThrottle(CountingThrottleMixin, UserRateThrottle):
    pass
