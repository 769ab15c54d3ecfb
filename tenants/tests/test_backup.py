"""backup_company and restore_company: a round trip into a new company keeps every row, and the copy works.

pg_dump and pg_restore see only committed data, so these tests cannot run in
the usual rolled-back transaction (and transactional_db would flush the
shared companies). The module makes its own company, `bksrc`, commits its
data, and drops it and every restored copy at the end.
"""

import datetime as dt
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from accounts import services as account_services
from batches import services as batch_services
from batches.models import Batch
from batches.tests.factories import BatchFactory, packed_batch
from payments import services as payment_services
from payments.models import GrowerPayment
from tenants.backup import SCRATCH_PREFIX, Server
from tenants.models import Company, Domain
from tenants.services import NewCompany, create_company

# Needed so that pytest-django makes the test database at all; each test still runs in a rolled-back
# transaction, while the module's fixtures below commit.
pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
SOURCE = "bksrc"
# Tables that must not be empty in the source, or the round trip would prove little.
FILLED = ["batches", "batch_history", "growers", "packhouses", "grower_payments", "price_agreements",
          "daily_grower_intake", "accounts_user", "auth_group", "django_migrations", "reconciliation_settings"]


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker):
    """Database access outside any test transaction; drops what the module made."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()
        for company in Company.objects.filter(schema_name__startswith="bk"):
            Domain.objects.filter(tenant=company).delete()
            company.delete(force_drop=True)
        with connection.cursor() as cursor:
            for schema in ("bksrc", "bkcopy", "bkfail", "bkagain"):
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            # The intakes above queued a refresh of their company's view, committed like them.
            cursor.execute("DELETE FROM procrastinate_jobs WHERE args->>'schema' LIKE 'bk%'")


@pytest.fixture(scope="module")
def source(committed):
    company = create_company(NewCompany(
        schema=SOURCE, name="Backup Source Fruit", domain="bksrc.localhost",
        admin_email="manager@bksrc.test", admin_password=PASSWORD, time_zone="Europe/Lisbon",
    ))
    with tenant_context(company):
        account_services.ensure_user(email="clerk@bksrc.test", password=PASSWORD, role="Clerk")
        batch = packed_batch()
        for _ in range(3):
            BatchFactory(grower=batch.grower, packhouse=batch.packhouse, variety="Fuji — ünïcode ✓")
        batch_services.transition(BatchFactory(), "grading")
        payment_services.record_payment(grower=batch.grower, payment_type="advance", amount=Decimal("1234.56"),
                                        reference="EFT-BK-1", paid_date=dt.date(2026, 3, 1), notes="O'Neil \"quoted\"")
        payment_services.record_payment(grower=batch.grower, payment_type="adjustment", amount=Decimal("-10.00"),
                                        reference="EFT-BK-2", paid_date=dt.date(2026, 3, 2))
        payment_services.create_price_agreement(fruit_type="apple", grade="class1", valid_from=dt.date(2026, 1, 1),
                                                price_per_kg=Decimal("5.2500"))
    call_command("refresh_intake_view", schema=SOURCE, stdout=StringIO())
    connection.set_schema_to_public()
    return company


def fingerprint(schema):
    """Per table and materialized view: row count and md5 of the ordered rows; sequences; triggers; constraints."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'm') ORDER BY 1", [schema],
        )
        tables = [row[0] for row in cursor.fetchall()]
        result = {}
        for table in tables:
            cursor.execute(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text), \'\')) '
                f'FROM "{schema}"."{table}" t'
            )
            result[table] = cursor.fetchone()
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s ORDER BY 1", [schema])
        result["sequences"] = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal ORDER BY 1, 2",
            [schema],
        )
        result["triggers"] = cursor.fetchall()
        cursor.execute(
            "SELECT conname, contype FROM pg_constraint WHERE connamespace = %s::regnamespace ORDER BY 1", [schema],
        )
        result["constraints"] = cursor.fetchall()
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s ORDER BY 1", [schema])
        result["indexes"] = cursor.fetchall()
    return result


def run(command, *args):
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def restored(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("backup") / "bksrc.dump"
    before = fingerprint(SOURCE)
    backup_output = run("backup_company", "--schema", SOURCE, str(path))
    restore_output = run("restore_company", str(path), "--schema", "bkcopy", "--domain", "bkcopy.localhost",
                         "--name", "Backup Copy Fruit")
    connection.set_schema_to_public()
    return {"path": path, "before": before, "backup_output": backup_output, "restore_output": restore_output,
            "company": Company.objects.get(schema_name="bkcopy")}


def test_the_round_trip_keeps_every_row_sequence_trigger_and_constraint(restored):
    source, copy = restored["before"], fingerprint("bkcopy")

    for table in FILLED:
        assert source[table][0] > 0, f"{table} is empty in the source: the test would prove nothing"
    assert copy == source
    assert ("grower_payments", "grower_payments_append_only") in copy["triggers"]
    assert ("price_agreements_no_overlap", "x") in copy["constraints"]


def test_the_source_company_is_untouched(restored):
    assert fingerprint(SOURCE) == restored["before"]


def test_commands_report_their_progress(restored):
    assert f"Wrote {restored['path']}" in restored["backup_output"]
    assert "holds the schema 'bksrc'; restoring it as 'bkcopy'" in restored["restore_output"]
    assert "Restored Backup Copy Fruit: http://bkcopy.localhost/" in restored["restore_output"]


def test_the_restored_company_is_registered_with_its_domain_and_time_zone(restored):
    company = restored["company"]

    assert company.name == "Backup Copy Fruit"
    assert company.primary_domain == "bkcopy.localhost"
    assert company.time_zone == "Europe/Lisbon"
    assert company.is_active


def test_a_user_logs_in_on_the_new_host_and_sees_the_restored_data(restored):
    client = Client(HTTP_HOST="bkcopy.localhost")

    response = client.post("/login/", {"username": "clerk@bksrc.test", "password": PASSWORD})

    assert response.status_code == 302, response.content
    page = client.get("/batches/")
    assert page.status_code == 200
    assert "Backup Copy Fruit" in page.text
    assert "Fuji — ünïcode ✓" in page.text
    # The session is the new host's only: the source host does not know it.
    elsewhere = Client(HTTP_HOST="bksrc.localhost")
    elsewhere.cookies = client.cookies
    assert elsewhere.get("/batches/").status_code == 302


def test_the_restored_company_keeps_working(restored):
    with tenant_context(restored["company"]):
        payment = GrowerPayment.objects.get(reference="EFT-BK-1")
        # The append-only trigger came along and still finds its function after the rename.
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            GrowerPayment.objects.filter(pk=payment.pk).update(amount=Decimal("1.00"))
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            GrowerPayment.objects.filter(pk=payment.pk).delete()
        # Sequences continue after the restored rows: no duplicate keys.
        BatchFactory(grower=payment.grower)
        payment_services.record_payment(grower=payment.grower, payment_type="final", amount=Decimal("5.00"),
                                        reference="EFT-BK-3", paid_date=dt.date(2026, 3, 3))
        assert Batch.objects.count() == restored["before"]["batches"][0] + 1
        assert GrowerPayment.objects.count() == restored["before"]["grower_payments"][0] + 1
    # The materialized view refreshes (CONCURRENTLY needs its unique index) in the new schema.
    output = run("refresh_intake_view", "--schema", "bkcopy")
    assert "bkcopy" in output
    with connection.cursor() as cursor:
        cursor.execute('SELECT sum(batches) FROM "bkcopy".daily_grower_intake')
        assert cursor.fetchone()[0] == restored["before"]["batches"][0] + 1
    connection.set_schema_to_public()


def test_no_scratch_database_is_left_behind(restored):
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [SCRATCH_PREFIX + "%"])
        assert cursor.fetchall() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schema", "bksrc"], "a schema named 'bksrc' already exists"),
        (["--schema", "Bad-Name"], "'Bad-Name' is not a valid schema name"),
        (["--schema", "public"], "'public' is not a valid schema name"),
        (["--schema", "bkagain", "--domain", "bksrc.localhost"], "the domain 'bksrc.localhost' is already taken"),
        (["--schema", "bkagain", "--domain", "not a host"], "'not a host' is not a valid hostname"),
        (["--schema", "bkagain", "--name", "  "], "the company needs a name"),
    ],
)
def test_restore_refuses_bad_input_and_creates_nothing(restored, args, message):
    options = {"--schema": "bkagain", "--domain": "bkagain.localhost", "--name": "Again"}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    companies = Company.objects.count()

    with pytest.raises(CommandError, match=message):
        run("restore_company", str(restored["path"]), *[x for pair in options.items() for x in pair])

    assert Company.objects.count() == companies
    assert not schema_exists("bkagain")


def test_restore_refuses_a_missing_or_broken_file_and_leaves_nothing(restored, tmp_path):
    broken = tmp_path / "broken.dump"
    broken.write_bytes(restored["path"].read_bytes()[: restored["path"].stat().st_size // 2])
    args = ["--schema", "bkfail", "--domain", "bkfail.localhost", "--name", "Fail"]

    with pytest.raises(CommandError, match="does not exist"):
        run("restore_company", str(tmp_path / "missing.dump"), *args)
    with pytest.raises(CommandError, match="failed"):
        run("restore_company", str(broken), *args)

    assert not schema_exists("bkfail")
    assert not Company.objects.filter(schema_name="bkfail").exists()
    test_no_scratch_database_is_left_behind(restored)


def test_backup_refuses_an_unknown_company_and_an_existing_file(restored, tmp_path):
    with pytest.raises(CommandError, match="No company has the schema 'nobody'"):
        run("backup_company", "--schema", "nobody", str(tmp_path / "x.dump"))
    with pytest.raises(CommandError, match="No company has the schema 'public'"):
        run("backup_company", "--schema", "public", str(tmp_path / "x.dump"))
    with pytest.raises(CommandError, match="already exists"):
        run("backup_company", "--schema", SOURCE, str(restored["path"]))
    with pytest.raises(CommandError, match="does not exist"):
        run("backup_company", "--schema", SOURCE, str(tmp_path / "no-such-dir" / "x.dump"))
    assert not (tmp_path / "x.dump").exists()


@pytest.mark.parametrize(("command", "says"), [("backup_company", "pg_dump -Fc"), ("restore_company", "NEW company")])
def test_commands_explain_themselves(capsys, command, says):
    with pytest.raises(SystemExit) as exit_:
        call_command(command, "--help")

    assert exit_.value.code == 0
    assert says in capsys.readouterr().out


def test_server_reaches_the_test_database(committed):
    server = Server.from_settings()

    with server.connect() as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == connection.settings_dict["NAME"]
    assert isinstance(conn, psycopg.Connection)
