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
"""

import sys

from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors.base import MigrationExecutor, run_migrations
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
        for idx, schema_name in enumerate(behind):
            run_migrations(self.args, self.options, self.codename, schema_name, idx=idx, count=len(behind))

    def run_multi_type_migrations(self, tenants):
        raise NotImplementedError("FruitPAK has one tenant type; use the standard executor for several.")
