"""Back up one company's schema with pg_dump; restore it as a new company with pg_restore.

A backup is a pg_dump custom-format archive (-Fc) of the company's schema
only: its tables with their data, sequences, constraints, triggers, the
append-only function and the daily_grower_intake materialized view. The
company's row and domains live in the public schema and are not in it.

Restoring under another schema name: a dump names its schema everywhere, so
pg_restore can only recreate the original name, which usually still exists
(the live company). Rewriting the schema name in SQL text is fragile (the
name also appears in data, e.g. e-mail addresses). Instead the archive is
restored into a scratch database, renamed there with ALTER SCHEMA ... RENAME
(PostgreSQL then renames every reference it stores by OID: triggers,
foreign keys, sequence defaults, the view), dumped again and restored into
the real database. The live company is never touched, and a failure leaves
nothing behind: the scratch database is dropped, and the final pg_restore is
one transaction. This needs the CREATEDB privilege.
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists, tenant_context
from psycopg import sql

from .models import RESERVED_SCHEMA_NAMES, SCHEMA_NAME_RE, Company, Domain
from .services import HOSTNAME_RE

SCRATCH_PREFIX = "fruitpak_restore_"


class BackupError(Exception):
    """Bad input or a failed step, with a message meant for the operator."""


@dataclass(frozen=True)
class Server:
    """How the client programs reach the database of settings.DATABASES['default']."""

    host: str
    port: str
    user: str
    password: str
    dbname: str
    sslmode: str

    @classmethod
    def from_settings(cls):
        # connection.settings_dict, not settings.DATABASES: under pytest it names the test database.
        conf = connection.settings_dict
        return cls(
            host=conf.get("HOST") or "", port=str(conf.get("PORT") or ""), user=conf.get("USER") or "",
            password=conf.get("PASSWORD") or "", dbname=conf["NAME"],
            sslmode=(conf.get("OPTIONS") or {}).get("sslmode", ""),
        )

    def args(self, dbname=None):
        args = ["--dbname", dbname or self.dbname]
        if self.host:
            args += ["--host", self.host]
        if self.port:
            args += ["--port", self.port]
        if self.user:
            args += ["--username", self.user]
        return args + ["--no-password"]

    def env(self):
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env

    def connect(self, dbname=None):
        params = {"dbname": dbname or self.dbname, "host": self.host, "port": self.port, "user": self.user,
                  "password": self.password, "sslmode": self.sslmode}
        return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


# --- The client programs ----------------------------------------------------------------------------------


def _major(version_text):
    """15 from 'pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)'."""
    match = re.search(r"\)\s+(\d+)", version_text)
    return int(match.group(1)) if match else 0


def _candidate_dirs(server_major):
    if os.environ.get("PG_BIN_DIR"):
        yield Path(os.environ["PG_BIN_DIR"])
    yield Path(f"/usr/lib/postgresql/{server_major}/bin")
    with contextlib.suppress(ImportError):
        import pgserver

        yield Path(pgserver.__file__).parent / "pginstall" / "bin"
    if shutil.which("pg_dump"):
        yield Path(shutil.which("pg_dump")).parent


def find_programs(server: Server):
    """pg_dump and pg_restore at least as new as the server (pg_dump refuses a newer server)."""
    with server.connect() as conn:
        server_major = conn.info.server_version // 10000
    seen = []
    for directory in _candidate_dirs(server_major):
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        if not (os.access(dump, os.X_OK) and os.access(restore, os.X_OK)):
            continue
        version = subprocess.run([dump, "--version"], capture_output=True, text=True).stdout
        seen.append(f"{dump} ({version.strip()})")
        if _major(version) >= server_major:
            return str(dump), str(restore)
    raise BackupError(
        f"No pg_dump/pg_restore for PostgreSQL {server_major} or newer was found "
        f"(install Debian's postgresql-client, or set PG_BIN_DIR). Seen: {', '.join(seen) or 'none'}."
    )


def _run(args, server, what):
    result = subprocess.run(args, env=server.env(), capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {' / '.join(detail[-3:]) or f'exit code {result.returncode}'}")
    return result.stdout


# --- Backup -------------------------------------------------------------------------------------------------


def backup_company(schema, path, progress=print):
    """Write the company's schema to `path` (pg_dump -Fc). Refuses to overwrite a file."""
    path = Path(path)
    with schema_context(get_public_schema_name()):
        company = Company.objects.filter(schema_name=schema).first()
    if company is None or schema == get_public_schema_name():
        raise BackupError(f"No company has the schema '{schema}'.")
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name.")
    if not path.parent.is_dir():
        raise BackupError(f"The directory {path.parent} does not exist.")
    server = Server.from_settings()
    pg_dump, _ = find_programs(server)
    progress(f"Backing up {company.name} (schema {schema}) with {pg_dump}...")
    partial = path.with_name(path.name + ".partial")
    try:
        _run([pg_dump, *server.args(), "--format=custom", f"--schema={schema}", "--no-owner", "--no-privileges",
              f"--file={partial}"], server, "pg_dump")
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)
    progress(f"Wrote {path} ({path.stat().st_size:,} bytes).")
    return path


# --- Restore ------------------------------------------------------------------------------------------------


def archive_schema(pg_restore, path, server):
    """The one schema an archive holds, read from its table of contents."""
    listing = _run([pg_restore, "--list", str(path)], server, f"Reading {path}")
    schemas = set(re.findall(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", listing, flags=re.MULTILINE))
    if len(schemas) != 1:
        raise BackupError(f"{path} is not a backup of one company (schemas in it: {sorted(schemas) or 'none'}).")
    return schemas.pop()


def validate_target(schema, domain, name):
    errors = []
    if not re.match(SCHEMA_NAME_RE, schema or "") or schema in RESERVED_SCHEMA_NAMES or schema.startswith("pg_"):
        errors.append(f"--schema: '{schema}' is not a valid schema name: use 2 to 40 lower-case letters, "
                      "digits or underscores, starting with a letter.")
    elif Company.objects.filter(schema_name=schema).exists() or schema_exists(schema):
        errors.append(f"--schema: a schema named '{schema}' already exists.")
    if not HOSTNAME_RE.match((domain or "").lower()):
        errors.append(f"--domain: '{domain}' is not a valid hostname.")
    elif Domain.objects.filter(domain=domain.lower()).exists():
        errors.append(f"--domain: the domain '{domain.lower()}' is already taken.")
    if not (name or "").strip():
        errors.append("--name: the company needs a name.")
    if errors:
        raise BackupError("\n".join(errors))


def restore_company(path, schema, domain, name, currency=None, progress=print):
    """Restore the archive at `path` as a new company `schema` served at `domain`. Returns the Company."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    with schema_context(get_public_schema_name()):
        validate_target(schema, domain, name)
    server = Server.from_settings()
    pg_dump, pg_restore = find_programs(server)
    source = archive_schema(pg_restore, path, server)
    progress(f"{path} holds the schema '{source}'; restoring it as '{schema}'.")

    scratch = SCRATCH_PREFIX + secrets.token_hex(6)
    with tempfile.TemporaryDirectory(prefix="fruitpak-restore-") as workdir:
        renamed = Path(workdir) / "renamed.dump"
        with server.connect(server.dbname) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        try:
            progress(f"1/3 Restoring into the scratch database {scratch}...")
            with server.connect(scratch) as conn:
                # The price agreements' exclusion constraint needs btree_gist, which lives in public.
                conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
            _run([pg_restore, *server.args(scratch), "--no-owner", "--no-privileges", "--exit-on-error",
                  "--single-transaction", str(path)], server, "pg_restore into the scratch database")
            with server.connect(scratch) as conn:
                conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(source), sql.Identifier(schema)))
            _run([pg_dump, *server.args(scratch), "--format=custom", f"--schema={schema}", "--no-owner",
                  "--no-privileges", f"--file={renamed}"], server, "pg_dump of the renamed schema")
        finally:
            with server.connect(server.dbname) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
        progress(f"2/3 Restoring schema '{schema}' into {server.dbname}...")
        _run([pg_restore, *server.args(), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", str(renamed)], server, "pg_restore")

    progress(f"3/3 Registering the company and its domain {domain.lower()}...")
    try:
        company = _register(schema, domain, name, currency)
        if _unapplied_migrations(company):
            # A backup made by older code gets the migrations it lacks. Not run otherwise: the roles'
            # post_migrate handler would advance sequences, and the copy would no longer be exact.
            progress("Applying the migrations the backup lacks...")
            call_command("migrate_schemas", schema_name=schema, interactive=False, verbosity=0)
    except BaseException:
        with schema_context(get_public_schema_name()):
            Domain.objects.filter(tenant__schema_name=schema).delete()
            Company.objects.filter(schema_name=schema).delete()
        with server.connect() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        raise
    progress(f"Restored {company.name}: http://{domain.lower()}/ (schema {schema}).")
    return company


def _unapplied_migrations(company):
    with tenant_context(company):
        executor = MigrationExecutor(connection)
        return executor.migration_plan(executor.loader.graph.leaf_nodes())


def _register(schema, domain, name, currency):
    with schema_context(get_public_schema_name()), transaction.atomic():
        with connection.cursor() as cursor:
            # The name passed SCHEMA_NAME_RE: it needs no escaping.
            cursor.execute(f'SELECT time_zone FROM "{schema}".reconciliation_settings WHERE id = 1')
            row = cursor.fetchone()
        company = Company(
            schema_name=schema, name=name.strip(), currency=currency or settings.DEFAULT_CURRENCY,
            time_zone=row[0] if row else settings.DEFAULT_TIME_ZONE,
        )
        # The schema is already there, restored: creating it would run the migrations on an empty one.
        company.auto_create_schema = False
        company.save()
        Domain.objects.create(domain=domain.lower(), tenant=company, is_primary=True)
    return company
