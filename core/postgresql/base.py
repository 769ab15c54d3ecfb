"""Django's PostgreSQL backend, loading timestamps with psycopg's C parser (settings.ORIGINAL_BACKEND).

Django registers its own timestamptz loader, a subclass of psycopg's pure-Python one (the C one is final:
psycopg issue #1273, Django ticket #36960), so every timestamp a query returns was parsed in Python: a
page of 50 batches loaded some 650 of them (docs/PERFORMANCE.md, "Session 8"). This loader parses with
the C loader and then does what Django's does, replace the time zone. FAST_TIMESTAMP_LOADER = False turns
it off; without psycopg's C extension, or if its private lookup goes, Django's own loader stays.
"""

from functools import lru_cache

from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import adapt, adapters
from psycopg.types.datetime import TimestamptzLoader


def _c_loader():
    try:
        optimised = adapters._get_optimised(TimestamptzLoader)
    except AttributeError:
        return None
    return None if optimised is TimestamptzLoader else optimised


C_TIMESTAMPTZ_LOADER = _c_loader()


@lru_cache
def _loader_for(timezone):
    class FastTzLoader(TimestamptzLoader):
        # Django's create_cursor compares this with the connection's time zone, as on its own loader.
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._parse = C_TIMESTAMPTZ_LOADER(oid, context).load

        def load(self, data):
            return self._parse(data).replace(tzinfo=timezone)

    FastTzLoader.timezone = timezone
    return FastTzLoader


@lru_cache
def _adapters(template, timezone):
    fast = adapt.AdaptersMap(template)
    fast.register_loader("timestamptz", _loader_for(timezone))
    return fast


def enabled():
    return C_TIMESTAMPTZ_LOADER is not None and getattr(settings, "FAST_TIMESTAMP_LOADER", True)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if enabled() and "context" in params:
            params["context"] = _adapters(params["context"], self.timezone)
        return params
