"""bench/profile_split.py: a py-spy stack lands in the part of the request it belongs to."""

import sys
from pathlib import Path

from django.conf import settings

sys.path.insert(0, str(Path(settings.BASE_DIR) / "bench"))
from profile_split import ORDER, split  # noqa: E402

HANDLER = "__call__ (django/core/handlers/wsgi.py:124);get_response (django/core/handlers/base.py:140)"
MIDDLEWARE = "__call__ (django_tenants/middleware/main.py:40)"
VIEW = "dispatch (rest_framework/views.py:512);list (batches/api/views.py:80)"


def in_view(*frames):
    """A request's stack through the handler, the tenant middleware and the view, then `frames`."""
    return ";".join([HANDLER, MIDDLEWARE, VIEW, *frames])


def test_each_stack_goes_to_its_innermost_part():
    serializer = "to_representation (rest_framework/serializers.py:500)"
    raw = "\n".join([
        # The ORM under pagination's count: filtering and pagination.
        f"{in_view('paginate_queryset (core/pagination.py:50)', 'count (django/db/models/query.py:600)')} 7",
        # Any psycopg frame is SQL wait, whatever called it.
        f"{in_view(serializer, 'execute (psycopg/cursor.py:97)')} 5",
        f"{in_view(serializer)} 4",
        f"{in_view('render (rest_framework/renderers.py:100)', 'encode (json/encoder.py:200)')} 3",
        f"{in_view('initial (rest_framework/views.py:400)', 'has_permission (rest_framework/permissions.py:10)')} 2",
        f"{HANDLER};{MIDDLEWARE};process_request (django_tenants/middleware/main.py:60) 6",
        # The view's own code, with the ORM it calls: view and other.
        f"{in_view('get_queryset (batches/api/views.py:60)', 'filter (django/db/models/query.py:1400)')} 9",
        # A worker thread waiting for a request is not a request's time.
        "run (gunicorn/workers/gthread.py:200);select (selectors.py:469) 1000",
        "garbage line without a count",
    ])

    samples = split(raw)

    assert samples == {"filtering and pagination": 7, "SQL wait": 5, "serialization": 4, "rendering": 3,
                       "auth and permissions": 2, "tenant and middleware": 6, "view and other": 9}
    assert set(samples) <= set(ORDER)
