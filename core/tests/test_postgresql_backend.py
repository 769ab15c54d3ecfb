"""core.postgresql: timestamps parsed by psycopg's C loader, with exactly what Django's own loader returns."""

from datetime import UTC

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from core.postgresql.base import C_TIMESTAMPTZ_LOADER

pytestmark = pytest.mark.django_db

TIMESTAMPTZ = 1184
MOMENTS = [
    "2026-03-29 01:30:00.123456+02", "1999-12-31 23:59:59.999999-05:30", "2026-12-01 04:00:00+00",
    "0001-01-01 00:00:00+00", "2026-06-15 12:00:00.5+14", "1900-01-01 00:00:00+01:30:15", "9999-12-31 23:59:59+00",
]


def loaded(cursor):
    cursor.execute("SELECT " + ", ".join(["%s::timestamptz"] * len(MOMENTS)), MOMENTS)
    return cursor.fetchone()


def test_the_connection_parses_timestamps_in_c():
    assert C_TIMESTAMPTZ_LOADER is not None, "psycopg's C extension (psycopg[binary]) is not installed"
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
        assert loader.__name__ == "FastTzLoader"
        assert loader.timezone == connection.timezone


def test_every_timestamp_is_what_djangos_loader_gives():
    with connection.cursor() as cursor:
        fast = loaded(cursor)
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT).__name__ == "SpecificTzLoader"
        django = loaded(cursor)

    assert [value.isoformat() for value in fast] == [value.isoformat() for value in django]
    assert all(value.tzinfo is UTC for value in fast)
    assert fast[0].isoformat() == "2026-03-28T23:30:00.123456+00:00"


def test_the_switch_gives_djangos_loader_back(settings):
    settings.FAST_TIMESTAMP_LOADER = False

    params = connection.get_connection_params()

    assert params["context"].get_loader(TIMESTAMPTZ, Format.TEXT).__name__ == "SpecificTzLoader"
