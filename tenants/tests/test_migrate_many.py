"""migrate_schemas over many companies: the 3rd of 5 fails halfway; it stops there, and no company is half-migrated.

The probe is two migrations of packhouses, added for the test through
MIGRATION_MODULES: a package whose __path__ is packhouses' own migrations
folder plus a temporary one. 0901 creates a table; 0902 adds a row to it and
then, in the 3rd company only, raises. With Django's commit per migration, the
3rd company would keep 0901; in one transaction per schema it keeps neither.

migrate_schemas commits, and transactional_db would flush the session's acme
and globex, so the companies are created, migrated and dropped on a
connection of their own (`committed`), and the probe's traces in acme, globex
and public are removed afterwards.
"""

import sys
import textwrap

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from core.tests.helpers import on_own_connection
from tenants.migration_executor import MigrationFailed
from tenants.models import Company, Domain
from tenants.services import NewCompany, create_company

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(240)]

SCHEMAS = [f"mgprobe{n}" for n in range(1, 6)]
FAILING = SCHEMAS[2]
PROBES = ("0901_probe_table", "0902_probe_row")

FIRST = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("packhouses", "{leaf}")]
    operations = [migrations.RunSQL("CREATE TABLE mg_probe (note text)", "DROP TABLE mg_probe")]
"""

SECOND = """
from django.db import migrations


def add_row(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("INSERT INTO mg_probe VALUES ('second')")
    if schema_editor.connection.schema_name == "{failing}":
        raise RuntimeError("probe failure in {failing}")


class Migration(migrations.Migration):
    dependencies = [("packhouses", "0901_probe_table")]
    operations = [
        migrations.RunSQL("INSERT INTO mg_probe VALUES ('first')", "DELETE FROM mg_probe"),
        migrations.RunPython(add_row, migrations.RunPython.noop),
    ]
"""



@pytest.fixture
def probe_migrations(tmp_path, monkeypatch):
    """packhouses' migrations plus the two probes, as a module for MIGRATION_MODULES.

    A real package on disk, since Django's loader reloads the module: its
    __init__ adds packhouses' own migrations folder to its __path__.
    """
    import packhouses.migrations

    leaf = MigrationLoader(None).graph.leaf_nodes("packhouses")[0][1]
    package = tmp_path / "mgprobe_migrations"
    package.mkdir()
    own = list(packhouses.migrations.__path__)
    (package / "__init__.py").write_text(f"__path__ += [p for p in {own!r} if p not in __path__]\n")
    (package / "0901_probe_table.py").write_text(textwrap.dedent(FIRST.format(leaf=leaf)))
    (package / "0902_probe_row.py").write_text(textwrap.dedent(SECOND.format(failing=FAILING)))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package.name
    for name in [name for name in sys.modules if name.split(".")[0] == package.name]:
        del sys.modules[name]


@pytest.fixture
def five_companies(acme, globex):
    """Five companies after acme and globex in migrate_schemas' order (by name), committed, dropped afterwards."""
    def create():
        for n, schema in enumerate(SCHEMAS, start=1):
            create_company(NewCompany(
                schema=schema, name=f"Mg Probe {n}", domain=f"{schema}.localhost",
                admin_email=f"manager@{schema}.test", admin_password="correct-horse-battery",
            ))

    def clean_up():
        with connection.cursor() as cursor:
            for schema in SCHEMAS:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            for schema in ("public", acme.schema, globex.schema):
                cursor.execute(f'DROP TABLE IF EXISTS "{schema}".mg_probe')
                cursor.execute(f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = ANY(%s)',
                               ["packhouses", list(PROBES)])
        Domain.objects.filter(tenant__schema_name__in=SCHEMAS).delete()
        Company.objects.filter(schema_name__in=SCHEMAS).delete()

    try:
        on_own_connection(create)
        yield SCHEMAS
    finally:
        on_own_connection(clean_up)


def state(schema):
    """(probe migrations recorded, rows in mg_probe or None without the table) in `schema`."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT name FROM "{schema}".django_migrations WHERE app = %s AND name = ANY(%s) ORDER BY name',
                       ["packhouses", list(PROBES)])
        recorded = tuple(name for (name,) in cursor.fetchall())
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".mg_probe'])
        if cursor.fetchone()[0] is None:
            return recorded, None
        cursor.execute(f'SELECT note FROM "{schema}".mg_probe ORDER BY note')
        return recorded, [note for (note,) in cursor.fetchall()]


OLD = ((), None)
NEW = (PROBES, ["first", "second"])


@pytest.mark.parametrize("executor", ["standard", "behind"])
def test_the_third_of_five_fails_halfway_and_every_company_is_old_or_new(five_companies, probe_migrations, executor):
    with override_settings(MIGRATION_MODULES={"packhouses": probe_migrations}):
        with pytest.raises(MigrationFailed) as failure:
            on_own_connection(
                lambda: call_command("migrate_schemas", executor=executor, interactive=False, verbosity=0))

    message = str(failure.value)
    assert f"migration packhouses.0902_probe_row failed in schema '{FAILING}'" in message
    assert f"probe failure in {FAILING}" in message
    assert "the 2 after it were not touched" in message
    # Read on a connection of its own: the test's transaction would hold locks that block the clean-up's DROP SCHEMA.
    assert on_own_connection(lambda: [state(schema) for schema in five_companies]) == [NEW, NEW, OLD, OLD, OLD]


def test_manage_py_prints_one_line_and_exits_non_zero(five_companies, probe_migrations, capsys):
    from django.core.management import ManagementUtility

    def run():
        with pytest.raises(SystemExit) as exit:
            ManagementUtility(["manage.py", "migrate_schemas", "--executor=behind", "--noinput", "-v", "0"]).execute()
        return exit.value.code

    with override_settings(MIGRATION_MODULES={"packhouses": probe_migrations}):
        code = on_own_connection(run)

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("MigrationFailed: migration packhouses.0902_probe_row failed in schema 'mgprobe3'")
    assert "Traceback" not in err
