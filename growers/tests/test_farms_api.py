"""/api/farms/, /api/blocks/ and /api/spray-clearances/: roles, anonymous, the other company, filters, writes."""

import pytest
from rest_framework.test import APIClient
from stdnum import ean

from core.tests.helpers import queries_for
from growers import services
from growers.models import Block, Farm, SprayClearance
from seasons.models import Season

from .factories import GrowerFactory

pytestmark = pytest.mark.django_db

CLERK, FINANCE, MANAGER = "Clerk", "Finance", "Manager"
ALL_READ = {CLERK: 200, FINANCE: 200, MANAGER: 200}
MANAGER_WRITES = {CLERK: 403, FINANCE: 403, MANAGER: 201}
MANAGER_EDITS = {CLERK: 403, FINANCE: 403, MANAGER: 200}

ENDPOINTS = {
    "farms-list": ("get", "/api/farms/", None, ALL_READ),
    "farms-detail": ("get", "/api/farms/{farm}/", None, ALL_READ),
    "farms-create": ("post", "/api/farms/", lambda w: {"grower": w["grower"], "code": "G0042-F9", "name": "New"},
                     MANAGER_WRITES),
    "farms-update": ("patch", "/api/farms/{farm}/", lambda w: {"region": "Elgin"}, MANAGER_EDITS),
    "blocks-list": ("get", "/api/blocks/", None, ALL_READ),
    "blocks-detail": ("get", "/api/blocks/{block}/", None, ALL_READ),
    "blocks-create": ("post", "/api/blocks/", lambda w: {"farm": w["farm"], "code": "B9", "fruit_type": "pear",
                                                         "variety": "Forelle"}, MANAGER_WRITES),
    "blocks-update": ("patch", "/api/blocks/{block}/", lambda w: {"hectares": "3.10"}, MANAGER_EDITS),
    "clearances-list": ("get", "/api/spray-clearances/", None, ALL_READ),
    "clearances-create": ("post", "/api/spray-clearances/",
                          lambda w: {"block": w["block"], "season": w["season"], "cleared_on": "2025-05-01",
                                     "lab_reference": "LAB-5"}, MANAGER_WRITES),
}
DETAIL = [name for name, (_, path, _, _) in ENDPOINTS.items() if "{" in path]


@pytest.fixture
def world(acme):
    with acme:
        grower = GrowerFactory(code="G0042")
        farm = services.create_farm(grower=grower, code="G0042-F1", name="Home farm", puc="PUC042")
        block = services.create_block(farm=farm, code="B07", fruit_type="apple", variety="Gala")
        season = Season.objects.get(code="2025")
        services.record_clearance(block=block, season=season, cleared_on=season.start_date, lab_reference="LAB-1")
    return {"grower": grower.pk, "farm": farm.pk, "block": block.pk, "season": season.pk}


def call(client, name, world, host=None):
    method, path, body, _ = ENDPOINTS[name]
    extra = {"HTTP_HOST": host} if host else {}
    return getattr(client, method)(path.format(**world), body(world) if body else None, format="json", **extra)


@pytest.mark.parametrize("role", [CLERK, FINANCE, MANAGER])
@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_role_gets_what_it_may(acme, world, name, role):
    response = call(acme.api_client(role), name, world)

    assert response.status_code == ENDPOINTS[name][3][role], response.content
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_gets_401(acme, world, name):
    response = call(APIClient(HTTP_HOST=acme.host), name, world)

    assert response.status_code == 401


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_other_companys_token_gets_401(acme, globex, world, name):
    response = call(globex.api_client(MANAGER), name, world, host=acme.host)

    assert response.status_code == 401


@pytest.mark.parametrize("name", DETAIL)
def test_the_other_companys_ids_are_404_on_its_host(globex, world, name):
    response = call(globex.api_client(MANAGER), name, world)

    assert response.status_code == 404


def test_the_other_companys_lists_hold_none_of_ours(globex, world):
    api = globex.api_client(MANAGER)

    for path in ("/api/farms/", "/api/blocks/", "/api/spray-clearances/"):
        assert api.get(path).json()["total"] == 0


def test_the_other_companys_block_cannot_be_named_in_a_write(globex, world):
    with globex:
        season = Season.objects.get(code="2025")

    response = globex.api_client(MANAGER).post(
        "/api/spray-clearances/", {"block": world["block"], "season": season.pk, "cleared_on": "2025-05-01",
                                   "lab_reference": "LAB-X"}, format="json")

    assert response.status_code == 400 and "block" in response.json()["errors"]


def test_lists_are_enveloped_and_filtered(acme, world):
    with acme:
        other = GrowerFactory(code="G0077")
        farm = services.create_farm(grower=other, code="G0077-F1", name="Hill", active=False)
        services.create_block(farm=farm, code="B1", fruit_type="pear", variety="Packham")
    api = acme.api_client(CLERK)

    farms = api.get("/api/farms/").json()
    assert set(farms) == {"items", "total", "limit", "offset"} and farms["total"] == 2
    assert [f["code"] for f in api.get(f"/api/farms/?grower={world['grower']}").json()["items"]] == ["G0042-F1"]
    assert [f["code"] for f in api.get("/api/farms/?active=false").json()["items"]] == ["G0077-F1"]
    assert [f["code"] for f in api.get("/api/farms/?q=puc042").json()["items"]] == ["G0042-F1"]

    def blocks(query):
        return [(b["farm"], b["code"]) for b in api.get(f"/api/blocks/?{query}").json()["items"]]

    assert blocks(f"grower={world['grower']}") == [(world["farm"], "B07")]
    assert blocks(f"farm={farm.pk}") == [(farm.pk, "B1")]
    assert blocks("fruit_type=pear") == [(farm.pk, "B1")]
    assert blocks("variety=gala") == [(world["farm"], "B07")]
    assert blocks("q=G0077") == [(farm.pk, "B1")]
    assert blocks("active=true") == [(world["farm"], "B07"), (farm.pk, "B1")]
    block = api.get(f"/api/blocks/{world['block']}/").json()
    assert (block["grower"], block["fruit_type"]) == (world["grower"], "apple")

    def clearances(query):
        return [c["lab_reference"] for c in api.get(f"/api/spray-clearances/?{query}").json()["items"]]

    assert clearances(f"block={world['block']}") == ["LAB-1"]
    assert clearances(f"farm={world['farm']}&season={world['season']}") == ["LAB-1"]
    assert clearances(f"farm={farm.pk}") == []


@pytest.mark.parametrize("query", ["active=maybe", "fruit_type=banana", "grower=abc", "farm=0", "limit=x"])
def test_a_bad_filter_is_a_400_that_says_why(acme, world, query):
    response = acme.api_client(CLERK).get(f"/api/blocks/?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_manager_creates_and_edits_a_farm_and_a_block(acme, world):
    api = acme.api_client(MANAGER)
    ggn = "400638133393" + ean.calc_check_digit("400638133393")

    farm = api.post("/api/farms/", {"grower": world["grower"], "code": "G0042-F2", "name": "River",
                                    "puc": "PUC900", "ggn": ggn}, format="json")
    assert farm.status_code == 201, farm.content
    assert (farm.json()["puc"], farm.json()["ggn"]) == ("PUC900", ggn)

    refused = api.patch(f"/api/farms/{farm.json()['id']}/", {"code": "HIJACK", "name": "X"}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["code"]
    moved = api.patch(f"/api/farms/{farm.json()['id']}/", {"grower": world["grower"]}, format="json")
    assert moved.status_code == 400 and list(moved.json()["errors"]) == ["grower"]
    edited = api.patch(f"/api/farms/{farm.json()['id']}/", {"name": "River East", "active": False}, format="json")
    assert edited.status_code == 200 and (edited.json()["name"], edited.json()["active"]) == ("River East", False)

    block = api.post("/api/blocks/", {"farm": world["farm"], "code": "B08", "fruit_type": "apple",
                                      "variety": "Fuji", "hectares": "2.50", "planted_year": 2015}, format="json")
    assert block.status_code == 201, block.content
    edited = api.patch(f"/api/blocks/{block.json()['id']}/", {"variety": "Fuji Kiku"}, format="json")
    assert edited.status_code == 200 and edited.json()["variety"] == "Fuji Kiku"
    assert api.put(f"/api/blocks/{block.json()['id']}/", {}, format="json").status_code == 405
    assert api.delete(f"/api/farms/{farm.json()['id']}/").status_code == 405


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "G0042-F9", "name": "X", "ggn": "4049928888880"}, "ggn"),
        ({"code": "G0042-F9", "name": "X", "ggn": "12345"}, "ggn"),
        ({"code": "G0042-F9", "name": "X", "puc": "PUC042"}, "puc"),
        ({"code": "G0042-F1", "name": "X"}, "code"),
        ({"code": "G0042-F9", "name": ""}, "name"),
        ({"code": "G0042-F9", "name": "X", "grower": 999999}, "grower"),
    ],
)
def test_a_bad_farm_is_a_400_and_saves_nothing(acme, world, body, field):
    response = acme.api_client(MANAGER).post("/api/farms/", {"grower": world["grower"], **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    with acme:
        assert Farm.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "B07", "fruit_type": "apple", "variety": "Fuji"}, "code"),
        ({"code": "B08", "fruit_type": "banana", "variety": "Fuji"}, "fruit_type"),
        ({"code": "B08", "fruit_type": "apple", "variety": ""}, "variety"),
        ({"code": "B08", "fruit_type": "apple", "variety": "Fuji", "hectares": "0"}, "hectares"),
    ],
)
def test_a_bad_block_is_a_400_and_saves_nothing(acme, world, body, field):
    response = acme.api_client(MANAGER).post("/api/blocks/", {"farm": world["farm"], **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    with acme:
        assert Block.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cleared_on": "2025-05-01", "lab_reference": ""}, "lab_reference"),
        ({"cleared_on": "2026-03-01", "lab_reference": "LAB-2"}, "cleared_on"),
        ({"cleared_on": "2025-05-01", "lab_reference": "LAB-2", "valid_until": "2025-04-01"}, None),
        ({"cleared_on": "not a date", "lab_reference": "LAB-2"}, "cleared_on"),
    ],
)
def test_a_bad_clearance_is_a_400_and_saves_nothing(acme, world, body, field):
    response = acme.api_client(MANAGER).post(
        "/api/spray-clearances/", {"block": world["block"], "season": world["season"], **body}, format="json")

    assert response.status_code == 400
    assert field is None or field in response.json()["errors"]
    with acme:
        assert SprayClearance.objects.count() == 1


def test_lists_cost_the_same_for_2_rows_or_40(acme, world, settings):
    settings.CACHED_PAGE_FAST_PATH = False
    api = acme.api_client(CLERK)
    paths = ["/api/farms/?limit=500", "/api/blocks/?limit=500", "/api/spray-clearances/?limit=500"]

    def grow(n):
        with acme:
            grower = GrowerFactory()
            season = Season.objects.get(code="2025")
            for i in range(n):
                farm = services.create_farm(grower=grower, code=f"{grower.code}-F{i}", name=f"Farm {i}")
                block = services.create_block(farm=farm, code="B1", fruit_type="apple", variety="Gala")
                services.record_clearance(block=block, season=season, cleared_on=season.start_date,
                                          lab_reference=f"LAB-{i}")

    grow(1)
    few = [queries_for(api, path + "&few=1") for path in paths]
    grow(39)
    many = [queries_for(api, path + "&many=1") for path in paths]

    assert many == few
