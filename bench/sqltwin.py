"""The SQL-only twin of a scenario: what a request would cost if the framework cost nothing.

For a database-backed page a bare response is no honest limit; its own SQL is. bench/web.py captures, from the
real view through nginx and gunicorn, every statement one request runs (bench/sqlcapture.py writes
BENCH_BASELINE_DIR/<scenario>.sql.json) and its response body (<scenario>.body). This WSGI app, with no Django
in it, answers /__sqltwin__/<scenario> by running those statements on the same PostgreSQL through a psycopg pool
sized like Django's, in the same transaction shape (a run of statements from inside an atomic block is one
BEGIN ... COMMIT; `SET search_path` is in the log like any statement), reading every row, and returning the
captured bytes. The bench loads the scenario and its twin alternately through the same nginx and gunicorn workers
(gunicorn.conf.py's GUNICORN_WSGI_APP names `bench.sqltwin:application`, which hands everything else to Django).

A write cannot be replayed verbatim: intake's INSERT would repeat a batch code and an id. So a value a write
RETURNs (an id, the batch-code counter) that differs from the captured one is carried into the statements that
follow: ids textually, and the batch code rebuilt from the counter as the app builds it (packhouse-day-number).
A statement that fails inside a savepoint is rolled back to it, as the app does when a job is already queued.
"""

import json
import os
import re
import threading
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool

PREFIX = "/__sqltwin__/"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SAVEPOINT_RE = re.compile(r'^SAVEPOINT ("?[\w]+"?)$')
BATCH_CODE_RE = re.compile(r"'([A-Z0-9]+-\d{8}-)(\d{4,})'")
COUNTER_TABLE = "batch_code_counters"


class Scenario:
    """One captured request: its statements, grouped by transaction, and its response."""

    def __init__(self, directory, name):
        captured = json.loads((directory / f"{name}.sql.json").read_text())
        self.body = (directory / f"{name}.body").read_bytes()
        type_file = directory / f"{name}.type"
        self.content_type = type_file.read_text().strip() if type_file.is_file() else "application/json"
        self.status = captured["status"]
        self.groups = []
        for statement in captured["statements"]:
            if self.groups and self.groups[-1][0] == statement["atomic"]:
                self.groups[-1][1].append(statement)
            else:
                self.groups.append((statement["atomic"], [statement]))
        self.statements = len(captured["statements"])


class Replay:
    """The carried values of one replayed request."""

    def __init__(self):
        self.ids = {}
        self.batch_number = None

    def rewrite(self, sql):
        for old, new in self.ids.items():
            sql = re.sub(rf"(?<![\w.'-]){old}(?![\w.'-])", str(new), sql)
        if self.batch_number is not None:
            sql = BATCH_CODE_RE.sub(lambda match: f"'{match.group(1)}{self.batch_number:0{len(match.group(2))}d}'",
                                    sql)
        return sql

    def learn(self, statement, row):
        """A write's RETURNING row, next to the captured one: what the following statements must say instead."""
        captured = statement.get("first_row")
        if row is None or captured is None or not statement["sql"].lstrip().upper().startswith(("INSERT", "UPDATE")):
            return
        for column, old, new in zip(statement["columns"], captured, row, strict=False):
            if old == new:
                continue
            if COUNTER_TABLE in statement["sql"] and column == "last":
                self.batch_number = new
            elif column == "id" and isinstance(old, int):
                self.ids[old] = new


def execute_group(connection, statements, replay):
    """Run one transaction's (or autocommit run's) statements; how many were sent."""
    sent = 0
    savepoint_failed = None
    with connection.cursor() as cursor:
        for statement in statements:
            sql = replay.rewrite(statement["sql"])
            savepoint = SAVEPOINT_RE.match(sql)
            if savepoint_failed is not None:
                # Skipping to the savepoint's release, as the app's except clause does.
                if sql.startswith("RELEASE SAVEPOINT"):
                    savepoint_failed = None
                continue
            try:
                sent += 1
                cursor.execute(sql)
            except psycopg.Error:
                if not open_savepoints(statements, statement):
                    raise
                name = open_savepoints(statements, statement)[-1]
                cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
                savepoint_failed = name
                continue
            if savepoint:
                continue
            if cursor.description is not None:
                rows = cursor.fetchall()
                replay.learn(statement, rows[0] if rows else None)
    return sent


def open_savepoints(statements, current):
    names = []
    for statement in statements:
        if statement is current:
            return names
        match = SAVEPOINT_RE.match(statement["sql"])
        if match:
            names.append(match.group(1))
        elif statement["sql"].startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            if names:
                names.pop()
    return names


class SqlTwin:
    def __init__(self, directory, database_url, max_size):
        self.directory = Path(directory)
        self.pool = ConnectionPool(
            database_url, min_size=1, max_size=max_size, open=False, check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "cursor_factory": psycopg.ClientCursor},
        )
        self.scenarios = {}
        self.lock = threading.Lock()

    def scenario(self, name):
        if name not in self.scenarios:
            with self.lock:
                if name not in self.scenarios and (self.directory / f"{name}.sql.json").is_file():
                    self.scenarios[name] = Scenario(self.directory, name)
        return self.scenarios.get(name)

    def __call__(self, environ, start_response):
        name = environ.get("PATH_INFO", "")[len(PREFIX):].rstrip("/")
        scenario = self.scenario(name) if NAME_RE.match(name) else None
        if scenario is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such twin"]
        if self.pool.closed:
            with self.lock:
                if self.pool.closed:
                    self.pool.open(wait=True)
        replay = Replay()
        sent = 0
        with self.pool.connection() as connection:
            for atomic, statements in scenario.groups:
                if atomic:
                    with connection.transaction():
                        sent += execute_group(connection, statements, replay)
                else:
                    sent += execute_group(connection, statements, replay)
        status = f"{scenario.status} {'OK' if scenario.status == 200 else 'Created'}"
        start_response(status, [("Content-Type", scenario.content_type), ("Content-Length", str(len(scenario.body))),
                                ("X-Twin-Statements", str(sent))])
        return [scenario.body]


def dispatcher(django_application, twin):
    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return twin(environ, start_response)
        return django_application(environ, start_response)

    return application


def _build():
    from fruitpak.wsgi import application as django_application

    twin = SqlTwin(os.environ["BENCH_BASELINE_DIR"], os.environ["DATABASE_URL"],
                   max_size=int(os.environ.get("DB_POOL_MAX", "4")))
    return dispatcher(django_application, twin)


application = _build() if os.environ.get("BENCH_BASELINE_DIR") else None
