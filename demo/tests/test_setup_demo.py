import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from batches.models import Batch, BatchBin, QCInspection
from growers.models import Block, Farm, Grower, SprayClearance
from packhouses.models import Packhouse
from seasons.services import current_season
from tenants.models import Company

pytestmark = pytest.mark.django_db


def test_setup_demo_twice_makes_one_demo_with_working_logins_and_seeds_it_once(client, capsys):
    # The season of demo data is seed_demo's to test (test_seed_demo.py); a little is enough here.
    call_command("setup_demo", "--batches", "100")
    call_command("setup_demo", "--batches", "100")

    output = capsys.readouterr().out
    assert "clerk@demo.localhost" in output and "password: fruitpak-demo" in output
    assert "already has 100 batches" in output
    assert output.rstrip().endswith("admin@fruitpak.localhost  password: fruitpak-demo")
    connection.set_schema_to_public()
    demo = Company.objects.get(schema_name="demo")
    assert demo.domains.count() == 1
    with tenant_context(demo):
        assert sorted((u.email, u.role) for u in User.objects.all()) == [
            ("clerk@demo.localhost", "Clerk"),
            ("finance@demo.localhost", "Finance"),
            ("manager@demo.localhost", "Manager"),
        ]
        assert Batch.objects.count() == 100
        assert Grower.objects.count() == 120 and Packhouse.objects.count() == 3
        assert Batch.objects.exclude(created_by=None).exists()
        # Traceability: farms and blocks, the current season, clearances for all but a couple of blocks,
        # and some batches with scanned bins and QC inspections.
        assert Farm.objects.count() >= 240 and Block.objects.count() >= 3 * Farm.objects.count()
        season = current_season()
        assert 2 <= Block.objects.count() - SprayClearance.objects.filter(season=season).count() < 20
        assert not Batch.objects.filter(block=None).exists() and not Batch.objects.filter(season=None).exists()
        assert BatchBin.objects.exists() and QCInspection.objects.exists()
    response = client.post(
        "/login/", {"username": "finance@demo.localhost", "password": "fruitpak-demo"},
        HTTP_HOST="demo.localhost",
    )
    assert response.status_code == 302
    assert "Finance" in client.get("/", HTTP_HOST="demo.localhost").text
