"""`migrate_schemas --executor=behind`: migrate only the schemas that have something to apply.

django-tenants' standard executor runs Django's `migrate` in every schema
in turn, about a third of a second each even when there is nothing to do
(the migration graph, the consistency checks, post_migrate's permission
and role sync): 164 s at 500 companies (docs/PERFORMANCE.md). This one
first reads every schema's django_migrations in one query, and runs
`migrate` only where a migration on disk is not applied yet.

What it skips with an up-to-date schema is post_migrate too: the content
types, permissions and role grants (accounts/roles.py) are synced only in
the schemas it migrates. After changing ROLE_GRANTS without a migration,
run the standard executor once. With an app label or a migration name
(a migration backwards, say) or --plan/--prune/--check, it is the standard
executor.

django-tenants finds executors among MigrationExecutor's subclasses, so
this module is imported in TenantsConfig.ready().

Both executors here (`standard`, as `make migrate` uses it, and `behind`)
migrate each schema in one transaction and stop at the first schema that
fails; see migrate_schema() and docs/MIGRATIONS.md.
"""

import os
import sys
import threading
from contextlib import nullcontext

from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors import get_executor as django_tenants_get_executor
from django_tenants.migration_executors.base import MigrationExecutor, run_migrations
from django_tenants.migration_executors.standard import StandardExecutor
from psycopg import sql

# Options under which skipping a schema could change the result.
EXACT_OPTIONS = ("app_label", "migration_name", "plan", "prune", "check_unapplied", "fake", "fake_initial")


def migrations_on_disk():
    """Every migration of every installed app, as (app, name); a squash stands for what it replaces."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key: set(loader.disk_migrations[key].replaces or []) for key in loader.graph.nodes}


def applied_by_schema(connection, schemas):
    """{schema: {(app, name), ...}} in one query; a schema without django_migrations maps to an empty set."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'django_migrations' AND table_schema = ANY(%s)",
            [list(schemas)],
        )
        with_table = [name for (name,) in cursor.fetchall()]
        applied = {schema: set() for schema in schemas}
        if not with_table:
            return applied
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}::text, app, name FROM {}.django_migrations").format(
                sql.Literal(schema), sql.Identifier(schema),
            )
            for schema in with_table
        )
        cursor.execute(query.as_string(cursor.connection))
        for schema, app, name in cursor.fetchall():
            applied[schema].add((app, name))
    return applied


def schemas_behind(connection, schemas):
    """The schemas, in their order, where some migration on disk is not applied."""
    needed = migrations_on_disk()
    applied = applied_by_schema(connection, schemas)

    def up_to_date(done):
        return all(key in done or (replaced and replaced <= done) for key, replaced in needed.items())

    return [schema for schema in schemas if not up_to_date(applied[schema])]


# The migration the current thread's `migrate` is applying, so a failure can name it.
_progress = threading.local()


class ProgressMigrateCommand(DjangoMigrateCommand):
    """Django's migrate, remembering which migration it is in (settings.TENANT_BASE_MIGRATE_COMMAND)."""

    def migration_progress_callback(self, action, migration=None, fake=False):
        if action in ("apply_start", "unapply_start"):
            _progress.migration = f"{migration.app_label}.{migration.name}"
        elif action in ("apply_success", "unapply_success"):
            _progress.migration = None
            connection = connections[self._database]
            if connection.in_atomic_block:
                # With the schema's whole plan in one transaction, a data migration's deferred
                # foreign-key checks would still be pending when a later migration ALTERs the
                # same table, which PostgreSQL refuses ("pending trigger events"). Committing
                # per migration used to run them; run them here instead.
                # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so DEFERRED is where
                # a fresh transaction would have started them.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        super().migration_progress_callback(action, migration, fake)

    def handle(self, *args, **options):
        self._database = options["database"]
        return super().handle(*args, **options)


def non_atomic_migrations():
    """Migrations on disk that declare atomic = False (CREATE INDEX CONCURRENTLY and the like)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key for key, migration in loader.disk_migrations.items() if not migration.atomic}


class MigrationFailed(CommandError):
    """A schema's migration failed; the run stopped there. CommandError: manage.py prints one line, exits 1."""


def migrate_schema(executor, schema_name, idx, count, whole_plan_atomic=True):
    """Run `migrate` in one schema, all of its plan in one transaction.

    Django commits after each migration, so a plan of three migrations that
    fails in the third would leave a company with two of them: neither the old
    state nor the new one. Wrapped in one transaction, a failure anywhere
    (including post_migrate's role sync) rolls the schema back to where it was.
    A migration with atomic = False cannot run inside a transaction; when one
    is due, the schema falls back to Django's commit per migration
    (whole_plan_atomic=False) and the failure message says so.
    """
    alias = executor.options.get("database") or executor.TENANT_DB_ALIAS
    connection = connections[alias]
    _progress.migration = None
    try:
        with transaction.atomic(using=alias) if whole_plan_atomic else nullcontext():
            run_migrations(executor.args, executor.options, executor.codename, schema_name, idx=idx, count=count)
    except Exception as exc:
        connection.set_schema_to_public()
        migration = getattr(_progress, "migration", None)
        where = f"migration {migration}" if migration else "migrate (outside any one migration)"
        state = ("rolled back to where it was" if whole_plan_atomic else
                 "left with the migrations before the failing one applied (its plan has a non-atomic migration)")
        left = count - idx - 1
        raise MigrationFailed(
            f"{where} failed in schema {schema_name!r} ({idx + 1} of {count}): {type(exc).__name__}: {exc}. "
            f"The schemas before it are migrated, {schema_name!r} was {state}, and the {left} after it "
            f"were not touched. Fix the migration, then run migrate_schemas --executor=behind to resume."
        ) from exc
    finally:
        _progress.migration = None


def migrate_schemas_in_turn(executor, schemas):
    """Migrate `schemas` one after another, stopping at the first that fails."""
    non_atomic = non_atomic_migrations()
    if non_atomic:
        applied = applied_by_schema(connections[executor.TENANT_DB_ALIAS], schemas)
        explicit_target = bool(executor.options.get("migration_name"))
    for idx, schema_name in enumerate(schemas):
        # public holds third-party apps (procrastinate) whose migrations need the one before them
        # committed: an enum value added in one cannot be used in the same transaction. It keeps
        # Django's commit per migration; the whole-plan transaction is for the companies.
        whole_plan_atomic = schema_name != executor.PUBLIC_SCHEMA_NAME and (
            not non_atomic or (not explicit_target and non_atomic <= applied[schema_name])
        )
        migrate_schema(executor, schema_name, idx, len(schemas), whole_plan_atomic)


class AtomicStandardExecutor(StandardExecutor):
    """django-tenants' standard executor, with migrate_schema()'s transaction and failure report."""

    def run_migrations(self, tenants=None):
        tenants = list(tenants or [])
        if self.PUBLIC_SCHEMA_NAME in tenants:
            tenants.remove(self.PUBLIC_SCHEMA_NAME)
            migrate_schemas_in_turn(self, [self.PUBLIC_SCHEMA_NAME])
        migrate_schemas_in_turn(self, tenants)

    def run_multi_type_migrations(self, tenants):
        raise NotImplementedError("FruitPAK has one tenant type.")


class BehindExecutor(MigrationExecutor):
    codename = "behind"

    def run_migrations(self, tenants=None):
        tenants = list(tenants or [])
        if any(self.options.get(name) for name in EXACT_OPTIONS):
            behind = tenants
        else:
            behind = schemas_behind(connections[self.TENANT_DB_ALIAS], tenants)
            if int(self.options.get("verbosity", 1)) >= 1:
                sys.stdout.write(
                    f"[behind] {len(tenants) - len(behind)} of {len(tenants)} schemas are up to date; "
                    f"migrating {len(behind)}.\n"
                )
        migrate_schemas_in_turn(self, behind)

    def run_multi_type_migrations(self, tenants):
        raise NotImplementedError("FruitPAK has one tenant type; use the standard executor for several.")


def get_executor(codename=None):
    """settings.GET_EXECUTOR_FUNCTION: `standard` is ours; django-tenants' lookup would find its own first."""
    codename = codename or os.environ.get("EXECUTOR", AtomicStandardExecutor.codename)
    ours = {executor.codename: executor for executor in (AtomicStandardExecutor, BehindExecutor)}
    return ours.get(codename) or django_tenants_get_executor(codename)
