"""migrate_schemas --executor=behind: one query finds the schemas with something to apply; the rest are skipped."""

import pytest
from django.core.management import call_command
from django.db import connection

from tenants.migration_executor import schemas_behind

pytestmark = pytest.mark.django_db

SCHEMAS = ["public", "acme", "globex"]


def test_up_to_date_schemas_are_not_behind(acme, globex):
    assert schemas_behind(connection, SCHEMAS) == []


def test_a_schema_missing_one_migration_is_behind(acme, globex):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM acme.django_migrations WHERE app = 'reconciliation' AND name = '0002_batch_day_totals'"
        )

    assert schemas_behind(connection, SCHEMAS) == ["acme"]


def test_a_schema_without_a_migrations_table_is_behind(acme):
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA newcomer")

    assert schemas_behind(connection, ["acme", "newcomer"]) == ["newcomer"]


def test_with_nothing_to_apply_the_command_migrates_no_schema(acme, globex, capsys):
    call_command("migrate_schemas", executor="behind", verbosity=1)

    out = capsys.readouterr().out
    assert "[behind] 1 of 1 schemas are up to date; migrating 0." in out  # public
    assert "[behind] 2 of 2 schemas are up to date; migrating 0." in out  # acme and globex
    assert "Starting migration" not in out
