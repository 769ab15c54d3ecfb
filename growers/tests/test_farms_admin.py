"""The company admin for farms, blocks and spray clearances: writes through the services, access, cost."""

import datetime as dt

import pytest

from core.cache import generation
from core.tests.helpers import form_errors, queries_for
from growers import services
from growers.models import Block, Farm, SprayClearance
from seasons.models import Season

from .factories import GrowerFactory

pytestmark = pytest.mark.django_db

FARMS, BLOCKS, CLEARANCES = "/admin/growers/farm/", "/admin/growers/block/", "/admin/growers/sprayclearance/"


@pytest.fixture
def world(acme):
    with acme:
        grower = GrowerFactory(code="G0042")
        farm = services.create_farm(grower=grower, code="G0042-F1", name="Home farm", puc="PUC042")
        block = services.create_block(farm=farm, code="B07", fruit_type="apple", variety="Gala")
        season = Season.objects.get(code="2025")
    return grower, farm, block, season


def test_adding_a_farm_goes_through_the_service(acme, world, django_capture_on_commit_callbacks):
    grower = world[0]
    client = acme.client("Manager")
    with acme:
        before = generation("growers")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(FARMS + "add/", {"grower": grower.pk, "code": " g0042-f2 ", "name": " River ",
                                                "puc": "puc901", "active": "on"})

    assert response.status_code == 302, form_errors(response)
    with acme:
        farm = Farm.objects.get(code="G0042-F2")
        assert (farm.name, farm.puc) == ("River", "PUC901")
        assert generation("growers") == before + 1


def test_a_farm_page_shows_its_blocks_read_only_and_keeps_the_code(acme, world):
    _, farm, block, _ = world
    client = acme.client("Manager")

    page = client.get(f"{FARMS}{farm.pk}/change/")
    assert page.status_code == 200 and "B07" in page.text and 'name="blocks-0-code"' not in page.text

    response = client.post(f"{FARMS}{farm.pk}/change/", {"code": "HIJACK", "name": "Renamed", "puc": "PUC042",
                                                         "active": "on", "blocks-TOTAL_FORMS": "1",
                                                         "blocks-INITIAL_FORMS": "1"})
    assert response.status_code == 302, response.content[:2000]
    with acme:
        farm.refresh_from_db()
    assert (farm.code, farm.name) == ("G0042-F1", "Renamed")


@pytest.mark.parametrize("data, field", [
    ({"ggn": "4049928888880"}, "ggn"),
    ({"puc": "PUC042"}, "puc"),
    ({"code": "G0042-F1"}, "code"),
])
def test_a_bad_farm_shows_the_error_and_saves_nothing(acme, world, data, field):
    response = acme.client("Manager").post(FARMS + "add/", {"grower": world[0].pk, "code": "G0042-F3",
                                                            "name": "X", "active": "on", **data})

    assert field in form_errors(response)
    with acme:
        assert Farm.objects.count() == 1


def test_blocks_are_added_and_changed_through_the_service(acme, world):
    farm, block = world[1], world[2]
    client = acme.client("Manager")

    added = client.post(BLOCKS + "add/", {"farm": farm.pk, "code": "b08", "fruit_type": "pear",
                                          "variety": "Packham", "active": "on"})
    duplicate = client.post(BLOCKS + "add/", {"farm": farm.pk, "code": "B07", "fruit_type": "pear",
                                              "variety": "Packham", "active": "on"})
    changed = client.post(f"{BLOCKS}{block.pk}/change/", {"fruit_type": "apple", "variety": "Royal Gala",
                                                           "hectares": "1.5", "active": "on"})

    assert added.status_code == 302 and changed.status_code == 302
    assert "already has a block B07" in " ".join(form_errors(duplicate)["code"])
    with acme:
        assert Block.objects.filter(farm=farm, code="B08").exists()
        block.refresh_from_db()
    assert (block.variety, str(block.hectares)) == ("Royal Gala", "1.50")


def test_clearances_are_recorded_through_the_service_and_never_changed(acme, world):
    block, season = world[2], world[3]
    client = acme.client("Manager")

    late = client.post(CLEARANCES + "add/", {"block": block.pk, "season": season.pk, "cleared_on": "2026-02-01",
                                             "lab_reference": "LAB-1"})
    assert "after season 2025 ends" in " ".join(form_errors(late)["cleared_on"])
    response = client.post(CLEARANCES + "add/", {"block": block.pk, "season": season.pk,
                                                 "cleared_on": "2025-05-01", "lab_reference": " LAB-1 "})
    assert response.status_code == 302
    with acme:
        clearance = SprayClearance.objects.get()
    assert clearance.lab_reference == "LAB-1"

    client.post(f"{CLEARANCES}{clearance.pk}/change/", {"block": block.pk, "season": season.pk,
                                                        "cleared_on": "2025-01-01", "lab_reference": "CHANGED"})
    assert client.post(f"{CLEARANCES}{clearance.pk}/delete/", {"post": "yes"}).status_code == 403
    with acme:
        clearance.refresh_from_db()
    assert (clearance.cleared_on, clearance.lab_reference) == (dt.date(2025, 5, 1), "LAB-1")


def test_changelists_cost_the_same_for_few_rows_or_many(acme, world):
    client = acme.client("Manager")
    pages = [FARMS, BLOCKS, CLEARANCES]
    for page in pages:
        client.get(page)

    def grow(n, start):
        with acme:
            grower = GrowerFactory()
            for i in range(start, start + n):
                farm = services.create_farm(grower=grower, code=f"{grower.code}-F{i}", name=f"Farm {i}")
                block = services.create_block(farm=farm, code="B1", fruit_type="apple", variety="Gala")
                services.record_clearance(block=block, season=world[3], cleared_on=dt.date(2025, 3, 1),
                                          lab_reference=f"LAB-{i}")

    grow(2, 0)
    few = [queries_for(client, page) for page in pages]
    grow(25, 2)

    assert [queries_for(client, page) for page in pages] == few


@pytest.mark.parametrize("role", [None, "Clerk", "Finance"])
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(acme, world, role):
    client = acme.client(role)

    for url in (FARMS, BLOCKS, CLEARANCES, f"{FARMS}{world[1].pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_other_companys_farm_is_not_found(acme, globex, world):
    farm = world[1]

    response = globex.client("Manager").get(f"{FARMS}{farm.pk}/change/", follow=True)

    assert "Home farm" not in response.text
