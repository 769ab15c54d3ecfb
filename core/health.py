"""Liveness and readiness, answered on any host without a tenant."""

import logging

from django.conf import settings
from django.db import connections
from django.http import JsonResponse

log = logging.getLogger(__name__)


def live():
    """The process answers. Touches neither PostgreSQL nor Redis."""
    return JsonResponse({"status": "ok"})


def check_database():
    connection = connections["default"]
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis():
    if settings.CACHES["default"]["BACKEND"] != "django_redis.cache.RedisCache":
        return "not configured"
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()
    return "ok"


CHECKS = {"database": check_database, "redis": check_redis}


def ready():
    """PostgreSQL and Redis both answer: 200. Otherwise 503, naming the part that is down."""
    results, down = {}, []
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # any failure of the part means "down", never a 500
            log.warning("readiness: %s is down: %s", name, exc)
            results[name] = "down"
            down.append(name)
    body = {"status": "unavailable" if down else "ok", "checks": results}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
