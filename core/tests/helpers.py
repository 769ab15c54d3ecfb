"""Helpers that tests of every app share."""

import threading

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


def on_own_connection(work, seconds=120):
    """Run `work` on a database connection of its own (autocommit), outside the test's transaction; its result.

    For tests whose subject must see committed data (a job worker, migrate_schemas), without flushing the
    session's companies as a transactional test would.
    """
    outcome = {}

    def target():
        try:
            outcome["value"] = work()
        except BaseException as exc:  # raised again in the test's thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def start_in_thread(company, work):
    """Start `work` on a database connection of its own (a thread gets its own), in the company's schema.

    Returns (thread, outcome); outcome gets "value" or "error" when the work ends. For races: two threads
    started, then joined with finish().
    """
    outcome = {}

    def target():
        connection.set_tenant(company)
        try:
            outcome["value"] = work()
        except Exception as exc:  # the test inspects it
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def finish(thread, outcome, seconds=60):
    thread.join(seconds)
    return outcome
