"""django-migration-linter over every migration newer than migrations-baseline.txt.

Old and new app servers run side by side during a deploy, so a new migration
must not drop or rename a column the old code still reads, nor add a NOT NULL
column without a default the old code cannot fill (docs/MIGRATIONS.md). The
baseline lists the migrations that existed when the linter came in; they ran
everywhere long ago and are not linted again.
"""

import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_migration_linter import MigrationLinter
from django_tenants.utils import get_public_schema_name, schema_context

BASELINE = Path(settings.BASE_DIR) / "migrations-baseline.txt"


def baseline():
    return {line.strip() for line in BASELINE.read_text().splitlines() if line.strip() and not line.startswith("#")}


def relative_path(migration, roots):
    """The migration's file relative to the first of `roots` that holds it, or None."""
    path = Path(sys.modules[migration.__module__].__file__).resolve()
    for root in roots:
        if path.is_relative_to(root.resolve()):
            return path.relative_to(root.resolve())
    return None


def lint_new_migrations(known, roots=(Path(settings.BASE_DIR),)):
    """Lint the migrations under `roots` not in `known`; returns (linter, the (app, name) pairs it linted)."""
    linter = MigrationLinter(no_cache=True, no_output=False)
    linted = []
    for (app_label, name), migration in sorted(linter.migration_loader.disk_migrations.items()):
        path = relative_path(migration, roots)
        # Django's and third-party apps' own migrations are not ours to lint (the virtualenv may sit in the checkout).
        if path is None or "site-packages" in path.parts or str(path) in known:
            continue
        # sqlmigrate emits the SQL only where django-tenants' router lets the app migrate:
        # a tenant app's SQL exists in a company's schema, a shared-only app's in public.
        schema = "acme" if app_label in settings.TENANT_APPS else get_public_schema_name()
        with schema_context(schema):
            linter.lint_migration(migration)
        linted.append((app_label, name))
    return linter, linted


@pytest.mark.django_db
def test_no_migration_newer_than_the_baseline_is_backward_incompatible(capsys):
    linter, linted = lint_new_migrations(baseline())
    assert not linter.has_errors, capsys.readouterr().out


def test_the_baseline_names_only_migrations_that_exist():
    missing = [path for path in baseline() if not (Path(settings.BASE_DIR) / path).is_file()]
    assert not missing


UNSAFE = {
    "0004_drop_ggn": """
from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("growers", "0003_farms_blocks_clearances")]
    operations = [migrations.RemoveField("grower", "ggn")]
""",
    "0004_rename_name": """
from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("growers", "0003_farms_blocks_clearances")]
    operations = [migrations.RenameField("grower", "name", "display_name")]
""",
    "0004_not_null_without_default": """
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("growers", "0003_farms_blocks_clearances")]
    operations = [migrations.AddField("grower", "region", models.CharField(max_length=50), preserve_default=False)]
""",
}
SAFE = {
    "0004_nullable_region": """
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("growers", "0003_farms_blocks_clearances")]
    operations = [migrations.AddField("grower", "region", models.CharField(max_length=50, null=True))]
""",
}


@pytest.fixture
def growers_migrations_with(tmp_path, settings):
    """growers' real migrations plus one of UNSAFE, in a throwaway package that stands in for growers.migrations."""

    def make(name):
        package = tmp_path / "rollback_lint_growers"
        package.mkdir()
        (package / "__init__.py").write_text("")
        for source in (Path(settings.BASE_DIR) / "growers" / "migrations").glob("0*.py"):
            (package / source.name).write_text(source.read_text())
        (package / f"{name}.py").write_text({**UNSAFE, **SAFE}[name])
        settings.MIGRATION_MODULES = {"growers": "rollback_lint_growers"}
        return package

    sys.path.insert(0, str(tmp_path))
    try:
        yield make
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m.startswith("rollback_lint_growers")]:
            del sys.modules[module]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(UNSAFE) + sorted(SAFE))
def test_an_unsafe_new_migration_is_refused_and_a_safe_one_passes(growers_migrations_with, name, capsys):
    package = growers_migrations_with(name)
    # Only the one new file is linted: the project's own new migrations have their own test above.
    repo = Path(settings.BASE_DIR)
    known = baseline() | {str(path.relative_to(repo)) for path in repo.glob("*/migrations/0*.py")} | {
        str(path.relative_to(package.parent)) for path in package.glob("0*.py") if path.stem != name
    }
    linter, linted = lint_new_migrations(known, roots=(Path(settings.BASE_DIR), package.parent))
    assert linted == [("growers", name)]
    assert linter.has_errors == (name in UNSAFE), capsys.readouterr().out
    connection.set_schema_to_public()
