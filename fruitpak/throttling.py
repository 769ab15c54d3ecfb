"""API throttles: per client address for anonymous requests, per user for authenticated ones.

DRF's own classes read their rates once, at import; these read
REST_FRAMEWORK's rates at each request, so that a changed setting (a test's
override_settings) takes effect. The counts live in the default cache
(Redis). When Redis is down, django-redis ignores the error: the history
reads as empty and the request goes through (fails open) rather than 500.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class CurrentRatesMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(CurrentRatesMixin, AnonRateThrottle):
    pass


class UserThrottle(CurrentRatesMixin, UserRateThrottle):
    pass
