import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from tenants import services
from tenants.models import Company, Domain

pytestmark = pytest.mark.django_db

GOOD = {
    "schema": "initech",
    "name": "Initech Citrus",
    "domain": "initech.localhost",
    "admin_email": "boss@initech.test",
    "admin_password": "a-long-and-unusual-passphrase",
}


def run(**overrides):
    options = {**GOOD, **overrides}
    args = []
    for key, value in options.items():
        if value is not None:
            args += [f"--{key.replace('_', '-')}", value]
    call_command("create_company", *args, stdout=open("/dev/null", "w"))


def snapshot():
    """What exists: schemas, companies, domains."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        schemas = {row[0] for row in cursor.fetchall()}
    return schemas, set(Company.objects.values_list("schema_name", flat=True)), set(
        Domain.objects.values_list("domain", flat=True)
    )


def test_creates_schema_domain_roles_and_first_manager(client):
    run()

    connection.set_schema_to_public()
    company = Company.objects.get(schema_name="initech")
    assert company.name == "Initech Citrus"
    assert schema_exists("initech")
    assert company.primary_domain == "initech.localhost"
    with tenant_context(company):
        manager = User.objects.get(email="boss@initech.test")
        assert manager.role == "Manager"
        assert manager.is_staff and not manager.is_superuser
        assert manager.has_perm("accounts.add_user")
        from django.contrib.auth.models import Group

        assert set(Group.objects.values_list("name", flat=True)) == {"Clerk", "Finance", "Manager"}

    response = client.post(
        "/login/", {"username": "boss@initech.test", "password": GOOD["admin_password"]},
        HTTP_HOST="initech.localhost",
    )
    assert response.status_code == 302
    assert "Initech Citrus" in client.get("/", HTTP_HOST="initech.localhost").text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schema": "acme"}, "already exists"),
        ({"schema": "public"}, "not a valid schema name"),
        ({"schema": "Bad-Name"}, "not a valid schema name"),
        ({"schema": "pg_catalog"}, "not a valid schema name"),
        ({"schema": "x; drop schema acme"}, "not a valid schema name"),
        ({"domain": "acme.localhost"}, "already taken"),
        ({"domain": "ACME.localhost"}, "already taken"),
        ({"domain": "not a host"}, "not a valid hostname"),
        ({"admin_password": None}, "needs a password"),
        ({"admin_password": "short"}, "too weak"),
        ({"admin_password": "password123"}, "too weak"),
        ({"admin_password": "1234567890123"}, "too weak"),
        ({"admin_email": "not-an-email"}, "not a valid email"),
        ({"name": "   "}, "needs a name"),
        ({"currency": "rand"}, "currency"),
        ({"time_zone": "Mars/Olympus"}, "time zone"),
    ],
)
def test_refuses_bad_input_and_creates_nothing(overrides, message):
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        run(**overrides)

    assert snapshot() == before


def test_existing_schema_without_a_company_row_is_refused():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA initech")
    before = snapshot()

    with pytest.raises(CommandError, match="already exists"):
        run()

    assert snapshot() == before


def test_failure_halfway_leaves_no_half_made_company(monkeypatch):
    def fail_after_schema_was_made(**kwargs):
        assert schema_exists("initech")  # the failure really is halfway
        raise RuntimeError("disk full while creating the first manager")

    monkeypatch.setattr(services.account_services, "create_user", fail_after_schema_was_made)
    before = snapshot()

    with pytest.raises(RuntimeError, match="disk full"):
        run()

    assert snapshot() == before


def test_help_explains_the_command(capsys):
    with pytest.raises(SystemExit):
        call_command("create_company", "--help")

    assert "first manager" in capsys.readouterr().out
