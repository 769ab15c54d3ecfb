"""Caches made stale by the writes themselves, seen where every write passes: the database connection.

A cache that remembers what some tables say registers them with `watch`.
Every statement sent through Django's connections passes `watch_writes`
(an execute wrapper on each connection), and one that writes a watched
table calls the cache back with the schema it ran in, whoever sent it: a
service, the admin, QuerySet.update(), a cascading delete, raw SQL through
Django's cursor. Nobody has to remember to make the cache stale.

What does not pass through Django is not seen (psql, pg_restore into a
scratch database, another program): the caches that rely on this keep a
short TTL for those.

A statement that starts with SELECT or SET is a read. Anything else that
names a watched table, as a whole word, counts as a write of it: a few
false alarms (a DDL statement, a write that names the table in a subquery)
only make a cache stale early.
"""

import re

from django.db.backends.signals import connection_created


class Watch:
    def __init__(self, tables, on_write, harmless_inserts=()):
        # \b: "accounts_user" must not match inside "accounts_user_groups" (an underscore is a word character).
        self.tables = re.compile(rf"\b({'|'.join(map(re.escape, tables))})\b", re.IGNORECASE)
        self.harmless_insert = None
        if harmless_inserts:
            names = "|".join(map(re.escape, harmless_inserts))
            self.harmless_insert = re.compile(rf'\s*INSERT\s+INTO\s+"?({names})"?[\s(]', re.IGNORECASE)
        self.on_write = on_write

    def written_by(self, sql):
        if not self.tables.search(sql):
            return False
        return self.harmless_insert is None or not self.harmless_insert.match(sql)


_watches = []


def watch(tables, on_write, harmless_inserts=()):
    """Call on_write(schema_name) after each statement that writes one of `tables`.

    `harmless_inserts`: tables whose INSERTs cannot make this cache wrong (a new row nobody has cached).
    """
    _watches.append(Watch(tables, on_write, harmless_inserts))


def is_read(sql):
    head = sql.lstrip()[:6].upper()
    return head == "SELECT" or head.startswith("SET")


def watch_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    # psycopg's composed SQL (sql.SQL(...).format(...)) is checked by its text, conservatively.
    text = sql if isinstance(sql, str) else str(sql)
    if not is_read(text):
        for watched in _watches:
            if watched.written_by(text):
                watched.on_write(context["connection"].schema_name)
    return result


def _install(sender, connection, **kwargs):
    # First in the list, so that a `with connection.execute_wrapper(...)` open while a connection is made
    # still pops its own wrapper, not this one.
    if watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, watch_writes)


connection_created.connect(_install, weak=False, dispatch_uid="core.write_watch")
