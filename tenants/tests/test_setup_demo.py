import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.models import Company

pytestmark = pytest.mark.django_db


def test_setup_demo_twice_makes_one_demo_with_working_logins(client, capsys):
    # The season of demo data is seed_demo's to test (batches/tests/test_seed_demo.py); a little is enough here.
    call_command("setup_demo", "--batches", "40")
    call_command("setup_demo", "--batches", "40")

    output = capsys.readouterr().out
    assert "clerk@demo.localhost" in output and "password: fruitpak-demo" in output
    connection.set_schema_to_public()
    demo = Company.objects.get(schema_name="demo")
    assert demo.domains.count() == 1
    with tenant_context(demo):
        assert sorted((u.email, u.role) for u in User.objects.all()) == [
            ("clerk@demo.localhost", "Clerk"),
            ("finance@demo.localhost", "Finance"),
            ("manager@demo.localhost", "Manager"),
        ]
    response = client.post(
        "/login/", {"username": "finance@demo.localhost", "password": "fruitpak-demo"},
        HTTP_HOST="demo.localhost",
    )
    assert response.status_code == 302
    assert "Finance" in client.get("/", HTTP_HOST="demo.localhost").text
