"""The bench's query log of one request, for its SQL-only twin (bench/sqltwin.py).

A request carrying `X-Bench-Capture: <scenario>` runs as usual, and every statement it sends on the default
connection is written to BENCH_BASELINE_DIR/<scenario>.sql.json in order, exactly as psycopg sent it (Django
binds parameters on the client, so the text is what the server received), with whether it ran inside a
transaction (an atomic block) and the rows it returned. The middleware is outermost (fruitpak.settings.bench), so
the tenant's `SET search_path`, the session, the user and the throttle's statements are all in the log.

Only the bench's settings install it; production never names it.
"""

import json
import re
from pathlib import Path

from django.conf import settings
from django.db import connection

HEADER = "HTTP_X_BENCH_CAPTURE"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class QueryLog:
    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        cursor = context["cursor"]
        entry = {"sql": connection.ops.last_executed_query(cursor, sql, params),
                 "atomic": connection.in_atomic_block, "many": bool(many)}
        if cursor.description is not None:
            # Read the rows, then rewind, so the caller reads them as if nobody had looked (client-side cursor).
            rows = cursor.fetchall()
            if rows:
                cursor.scroll(0, mode="absolute")
            entry["rows"] = len(rows)
            entry["columns"] = [column.name for column in cursor.description]
            first = rows[0] if rows else None
            entry["first_row"] = None if first is None else [v if isinstance(v, (int, str)) else None for v in first]
        self.statements.append(entry)
        return result


class SqlCaptureMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.directory = Path(settings.BENCH_BASELINE_DIR)

    def __call__(self, request):
        name = request.META.get(HEADER)
        if not name or not NAME_RE.match(name):
            return self.get_response(request)
        log = QueryLog()
        with connection.execute_wrapper(log):
            response = self.get_response(request)
        (self.directory / f"{name}.sql.json").write_text(json.dumps(
            {"status": response.status_code, "statements": log.statements}, indent=1))
        return response
