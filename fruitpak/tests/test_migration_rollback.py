"""Rollback testing: acme's schema, with data, migrated back past each app's newest migration and forward again.

The migrations run on the test's own connection inside its rolled-back
transaction: PostgreSQL's DDL is transactional and no migration here is
atomic=False or builds an index CONCURRENTLY, so whatever happens the schema
returns to fully migrated when the test ends, and the session's companies
(and their users) are never flushed. The `finally` migrates forward anyway,
so a failure in one step is reported as itself and not as a half-migrated
schema in the next assertion.
"""

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.utils import DatabaseError

from batches import services as batch_services
from batches.models import Batch
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory
from payments import services as payment_services
from reconciliation.tests.helpers import intake, local, packout

# The project's apps whose tables live in a company's schema.
PROJECT_APPS = ["accounts", "batches", "dispatch", "growers", "onboarding", "packhouses", "pallets", "payments",
                "pools", "reconciliation", "seasons", "tenants"]

# Each one the test does not roll back, and why. Nothing else may be missing.
NOT_ROLLED_BACK = {
    "packhouses": "its newest migration is 0001_initial: going back drops the packhouses table, and with it "
                  "batches and reconciliation, so no data can survive by design",
    "seasons": "its newest migration is 0001_initial: going back drops the seasons table and every batch's season",
    "dispatch": "its newest migration is 0001_initial: going back drops the loads",
    "onboarding": "its newest migration is 0001_import_runs: going back drops the import runs",
    "growers": "its newest migration, 0003, creates farms, blocks and spray clearances: going back drops them and, "
               "through batches 0005, every batch's block; forward again, batches 0006 can only give the batches "
               "Unassigned blocks, not the ones they had, so the data cannot come back intact by design",
    "tenants": "a shared app: its tables live in the public schema, which every company reads, and are "
               "migrated once for all of them, never per company",
}

# Columns a migration adds, so unapplying it drops them and their values (its docstring says so).
# Rolling back an app unapplies the migrations of other apps that depend on it as well.
LOST_ON_ROLLBACK = {
    ("batches", "0004_batch_idempotency_key"): {"batches": ["idempotency_key"]},
}

# Tables the migrations themselves write to on every run.
NOT_COMPARED = {"django_migrations"}


def rolled_back_apps():
    return [app for app in PROJECT_APPS if app not in NOT_ROLLED_BACK]


def test_every_project_app_is_rolled_back_or_says_why_not():
    """A new app with migrations is rolled back too, unless it is named in NOT_ROLLED_BACK."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    repo = Path(settings.BASE_DIR).resolve()
    ours = {
        app_label for (app_label, _name), migration in loader.disk_migrations.items()
        # The virtualenv may sit inside the checkout.
        if (path := Path(sys.modules[migration.__module__].__file__).resolve()).is_relative_to(repo)
        and "site-packages" not in path.parts
    }
    assert ours == set(PROJECT_APPS)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _migrate_forward():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _previous(app_label):
    """(app_label, name) of the migration before the app's newest one."""
    graph = MigrationLoader(connection).graph
    (leaf,) = [node for node in graph.leaf_nodes() if node[0] == app_label]
    parents = [parent for parent in graph.node_map[leaf].parents if parent.key[0] == app_label]
    assert len(parents) == 1, f"{leaf} has no single parent in its app"
    return leaf, parents[0].key


def _snapshot():
    """Every row of every table and materialized view in the schema, by table, as sorted column dicts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'm') ORDER BY 1", [connection.schema_name],
        )
        tables = [name for (name,) in cursor.fetchall() if name not in NOT_COMPARED]
        snapshot = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [column.name for column in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            snapshot[table] = sorted(rows, key=lambda row: repr(sorted(row.items())))
    return snapshot


def _build_company_data(acme):
    """acme with growers, packhouses, batches through their lifecycle, payments and prices."""
    grower, other_grower = GrowerFactory(), GrowerFactory()
    packhouse = PackhouseFactory()
    graded = intake(grower, packhouse, local(2026, 3, 2))
    packout(graded, "2000", "800", "300", "400")
    batch_services.transition(intake(other_grower, packhouse, local(2026, 3, 2, 11)), "rejected", reason="Hail")
    batch_services.record_intake_once(
        "rollback-key-1", block=block_for(grower, "pear", "Packham"), packhouse=packhouse,
        harvest_date=dt.date(2026, 3, 3), bin_count=4, gross_weight_kg=Decimal("1500"),
        tare_weight_kg=Decimal("200"), intake_date=local(2026, 3, 4),
    )
    payment_services.record_payment(grower=grower, payment_type="advance", amount=Decimal("5000.00"),
                                     reference="RB-1", paid_date=dt.date(2026, 3, 5))
    payment_services.record_payment(grower=grower, payment_type="deduction", amount=Decimal("120.50"),
                                    reference="RB-2", paid_date=dt.date(2026, 3, 6))
    payment_services.create_price_agreement(fruit_type="apple", variety="Gala", grade="class1",
                                            valid_from=dt.date(2026, 1, 1), price_per_kg=Decimal("9.2500"))
    payment_services.create_price_agreement(fruit_type="apple", grade="class2",
                                            valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 12, 31),
                                            price_per_kg=Decimal("4.1000"))
    return grower, packhouse


def _totals(grower):
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(batches), 0), coalesce(sum(net_kg), 0) FROM batch_day_totals "
                       "WHERE grower_id = %s", [grower.id])
        return cursor.fetchone()


def _assert_refused(sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.mark.parametrize("app_label", rolled_back_apps())
def test_rolling_back_and_forward_keeps_the_data(acme, app_label):
    with acme:
        grower, packhouse = _build_company_data(acme)
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their pending checks would make
        # PostgreSQL refuse the ALTER TABLEs of the migrations inside this same transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # Rolling back reconciliation re-creates the view WITH DATA; a stale one would not compare equal.
            cursor.execute("REFRESH MATERIALIZED VIEW daily_grower_intake")
        before = _snapshot()
        assert before["batches"] and before["batch_history"] and before["grower_payments"]
        assert before["price_agreements"] and before["batch_day_totals"] and before["accounts_user"]
        newest, previous = _previous(app_label)
        unapplied = [(migration.app_label, migration.name)
                     for migration, _backwards in MigrationExecutor(connection).migration_plan([previous])]
        assert newest in unapplied
        try:
            _migrate([previous])
            recorded = {name for app, name in MigrationExecutor(connection).loader.applied_migrations
                        if app == app_label}
            assert newest[1] not in recorded
        finally:
            _migrate_forward()
        assert not MigrationExecutor(connection).migration_plan(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        ), "the schema is not fully migrated again"

        after = _snapshot()
        lost = [(table, column) for migration in unapplied
                for table, columns in LOST_ON_ROLLBACK.get(migration, {}).items() for column in columns]
        for table, column in lost:
            assert any(row[column] is not None for row in before[table]), f"no {table}.{column} to lose"
            for row in before[table]:
                row[column] = None
            before[table] = sorted(before[table], key=lambda row: repr(sorted(row.items())))
        assert after.keys() == before.keys()
        for table in before:
            assert after[table] == before[table], f"{table} changed across the rollback of {app_label}"

        # The triggers are back: a new intake counts in batch_day_totals, history and payments stay append-only.
        batches, net_kg = _totals(grower)
        intake(grower, packhouse, local(2026, 3, 7), gross="1000", tare="100")
        assert _totals(grower) == (batches + 1, net_kg + Decimal("900.00"))
        _assert_refused("UPDATE batch_history SET payload = '{}'")
        _assert_refused("DELETE FROM grower_payments")
        assert Batch.objects.filter(grower=grower).count() == batches + 1
