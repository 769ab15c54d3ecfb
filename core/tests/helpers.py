"""Helpers that tests of every app share."""

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_for(client, url):
    """How many SQL statements a successful GET of `url` runs."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def form_errors(response):
    """The errors of the admin form a refused POST shows again."""
    assert response.status_code == 200, "the form should be shown again"
    return response.context["adminform"].form.errors


def redis_down_caches():
    """The project's cache settings pointed at a port where nothing listens, for override_settings(CACHES=...).

    Every cache call fails at once and django-redis ignores the error, as in
    production with Redis down. Built from the current settings, so the key
    function and the test's key prefix stay.
    """
    default = settings.CACHES["default"]
    return {"default": {
        **default,
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {**default.get("OPTIONS", {}), "SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25,
                    "IGNORE_EXCEPTIONS": True},
    }}
