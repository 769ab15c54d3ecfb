"""Farm and block pages: who may see and change them, what they show, and what they cost."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from stdnum import ean

from batches.models import Batch
from batches.tests.factories import BatchFactory
from core.tests.helpers import queries_for
from growers import services
from growers.models import Block, Farm
from packhouses.tests.factories import PackhouseFactory

from .factories import GrowerFactory

pytestmark = pytest.mark.django_db

CLERK, FINANCE, MANAGER = "Clerk", "Finance", "Manager"
EVERYONE = {CLERK: 200, FINANCE: 200, MANAGER: 200}
MANAGER_ONLY = {CLERK: 403, FINANCE: 403, MANAGER: 200}
PAGES = {
    "farms": ("/growers/farms/", EVERYONE),
    "blocks": ("/growers/blocks/", EVERYONE),
    "farm": ("/growers/farms/{farm}/", EVERYONE),
    "block": ("/growers/blocks/{block}/", EVERYONE),
    "farm-new": ("/growers/{grower}/farms/new/", MANAGER_ONLY),
    "farm-edit": ("/growers/farms/{farm}/edit/", MANAGER_ONLY),
    "block-new": ("/growers/farms/{farm}/blocks/new/", MANAGER_ONLY),
    "block-edit": ("/growers/blocks/{block}/edit/", MANAGER_ONLY),
}
OBJECT_PAGES = [name for name, (path, _) in PAGES.items() if "{" in path]


def valid_ggn(first12="404992888888"):
    return first12 + ean.calc_check_digit(first12)


@pytest.fixture
def world(acme):
    with acme:
        grower = GrowerFactory(code="G0042", name="Oak Valley")
        farm = services.create_farm(grower=grower, code="G0042-F1", name="Home farm", puc="PUC042")
        block = services.create_block(farm=farm, code="B07", fruit_type="apple", variety="Gala",
                                      hectares=Decimal("4.5"), planted_year=2012)
    return {"grower": grower.pk, "farm": farm.pk, "block": block.pk}


@pytest.mark.parametrize("role", [CLERK, FINANCE, MANAGER])
@pytest.mark.parametrize("name", PAGES)
def test_each_role_gets_what_it_may(acme, world, name, role):
    path, expected = PAGES[name]

    response = acme.client(role).get(path.format(**world))

    assert response.status_code == expected[role]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(acme, world, name):
    response = acme.client().get(PAGES[name][0].format(**world))

    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("name", OBJECT_PAGES)
def test_the_other_companys_farms_and_blocks_are_404(globex, world, name):
    response = globex.client(MANAGER).get(PAGES[name][0].format(**world))

    assert response.status_code == 404


def test_the_other_companys_farms_are_not_listed(acme, globex, world):
    with globex:
        GrowerFactory(code="G0999", name="Globex grower")
        services.create_farm(grower=GrowerFactory(code="G0998"), code="SECRET-F1", name="Secret farm")

    html = acme.client(CLERK).get("/growers/farms/").content.decode()

    assert "G0042-F1" in html and "SECRET-F1" not in html


def test_the_clearance_form_is_for_managers_only(acme, world):
    url = f"/growers/blocks/{world['block']}/clearances/"
    body = {"season": "", "cleared_on": "2026-01-05", "lab_reference": "LAB-1"}

    assert acme.client(CLERK).post(url, body).status_code == 403
    assert acme.client(FINANCE).post(url, body).status_code == 403
    assert acme.client().post(url, body)["Location"].startswith("/login/?next=")
    assert 'name="lab_reference"' not in acme.client(CLERK).get(f"/growers/blocks/{world['block']}/").text


def test_manager_adds_a_farm_and_a_block_and_edits_them(acme, world):
    client = acme.client(MANAGER)
    ggn = valid_ggn()

    response = client.post(f"/growers/{world['grower']}/farms/new/",
                           {"code": "g0042-f2", "name": "River farm", "puc": "puc777", "ggn": ggn,
                            "region": "Ceres", "active": "on"}, follow=True)

    assert "Farm G0042-F2 added." in response.text
    with acme:
        farm = Farm.objects.get(code="G0042-F2")
    assert (farm.grower_id, farm.puc, farm.ggn) == (world["grower"], "PUC777", ggn)

    response = client.post(f"/growers/farms/{farm.pk}/blocks/new/",
                           {"code": "b1", "fruit_type": "pear", "variety": "Packham", "hectares": "2.25",
                            "active": "on"}, follow=True)
    assert "Block G0042-F2/B1 added." in response.text
    with acme:
        block = Block.objects.get(farm=farm, code="B1")
    assert block.hectares == Decimal("2.25")

    client.post(f"/growers/farms/{farm.pk}/edit/", {"code": "HIJACK", "name": "River farm east", "puc": "PUC777",
                                                     "ggn": ggn, "region": "Ceres"})
    client.post(f"/growers/blocks/{block.pk}/edit/", {"code": "HIJACK", "fruit_type": "pear",
                                                       "variety": "Forelle", "planted_year": "2019", "active": "on"})
    with acme:
        farm.refresh_from_db()
        block.refresh_from_db()
    assert (farm.code, farm.name, farm.active) == ("G0042-F2", "River farm east", False)
    assert (block.code, block.variety, block.planted_year) == ("B1", "Forelle", 2019)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "G0042-F9", "name": "X", "ggn": "4049928888880"}, "ggn"),  # the check digit is 9
        ({"code": "G0042-F9", "name": "X", "ggn": "40499288888"}, "ggn"),
        ({"code": "G0042-F9", "name": "X", "puc": "PUC042"}, "puc"),  # the world's farm has it
        ({"code": "G0042-F1", "name": "X"}, "code"),
        ({"code": "bad code!", "name": "X"}, "code"),
        ({"code": "G0042-F9", "name": ""}, "name"),
    ],
)
def test_a_bad_farm_shows_errors_and_saves_nothing(acme, world, data, field):
    response = acme.client(MANAGER).post(f"/growers/{world['grower']}/farms/new/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    with acme:
        assert Farm.objects.count() == 1


def test_the_ggn_check_digit_is_validated(acme, world):
    good = valid_ggn("400638133393")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    client = acme.client(MANAGER)

    refused = client.post(f"/growers/{world['grower']}/farms/new/", {"code": "G0042-F3", "name": "X", "ggn": bad})
    taken = client.post(f"/growers/{world['grower']}/farms/new/", {"code": "G0042-F3", "name": "X", "ggn": good})

    assert "check digit" in str(refused.context["form"].errors["ggn"])
    assert taken.status_code == 302


def test_a_puc_is_unique_only_when_set(acme, world):
    with acme:
        grower = GrowerFactory()
        services.create_farm(grower=grower, code="NOPUC-1", name="One")
        services.create_farm(grower=grower, code="NOPUC-2", name="Two")
        with pytest.raises(Exception, match="PUC"):
            services.create_farm(grower=grower, code="NOPUC-3", name="Three", puc="PUC042")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "B07", "fruit_type": "apple", "variety": "Fuji"}, "code"),
        ({"code": "B08", "fruit_type": "banana", "variety": "Fuji"}, "fruit_type"),
        ({"code": "B08", "fruit_type": "apple", "variety": ""}, "variety"),
        ({"code": "B08", "fruit_type": "apple", "variety": "Fuji", "hectares": "-1"}, "hectares"),
        ({"code": "B08", "fruit_type": "apple", "variety": "Fuji", "planted_year": "1700"}, "planted_year"),
    ],
)
def test_a_bad_block_shows_errors_and_saves_nothing(acme, world, data, field):
    response = acme.client(MANAGER).post(f"/growers/farms/{world['farm']}/blocks/new/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    with acme:
        assert Block.objects.count() == 1


def test_a_block_with_batches_keeps_its_fruit_and_variety(acme, world):
    with acme:
        BatchFactory(block=Block.objects.get(pk=world["block"]))

    response = acme.client(MANAGER).post(f"/growers/blocks/{world['block']}/edit/",
                                         {"fruit_type": "apple", "variety": "Fuji", "active": "on"})

    assert response.status_code == 200
    assert "can no longer change" in response.text
    with acme:
        assert Block.objects.get(pk=world["block"]).variety == "Gala"


def test_the_grower_page_lists_its_farms_and_blocks(acme, world):
    html = acme.client(CLERK).get(f"/growers/{world['grower']}/").text

    assert f'href="/growers/farms/{world["farm"]}/"' in html and "PUC042" in html
    assert f'href="/growers/blocks/{world["block"]}/"' in html and "Gala" in html
    assert "Add farm" not in html
    assert "Add farm" in acme.client(MANAGER).get(f"/growers/{world['grower']}/").text


def test_the_farm_list_filters(acme, world):
    with acme:
        other = GrowerFactory(code="G0077")
        services.create_farm(grower=other, code="G0077-F1", name="Hill farm", region="Elgin", active=False)
    client = acme.client(CLERK)

    by_grower = client.get("/growers/farms/?grower_code=g0077").text
    by_puc = client.get("/growers/farms/?q=puc042").text
    inactive = client.get("/growers/farms/?active=false").text
    bad = client.get("/growers/farms/?active=maybe")

    assert "G0077-F1" in by_grower and "G0042-F1" not in by_grower
    assert "G0042-F1" in by_puc and "G0077-F1" not in by_puc
    assert "G0077-F1" in inactive and "G0042-F1" not in inactive
    assert bad.status_code == 200 and "No farms match." in bad.text


def _farms(n):
    grower = GrowerFactory()
    for i in range(n):
        farm = services.create_farm(grower=grower, code=f"{grower.code}-F{i}", name=f"Farm {i}")
        services.create_block(farm=farm, code="B1", fruit_type="apple", variety="Gala")


def test_the_farm_and_block_lists_cost_the_same_for_2_rows_or_40(acme):
    client = acme.client(CLERK)
    client.get("/")  # the session's first request loads more than any later one
    with acme:
        _farms(2)
    few = [queries_for(client, "/growers/farms/"), queries_for(client, "/growers/blocks/")]
    with acme:
        _farms(38)
    many = [queries_for(client, "/growers/farms/"), queries_for(client, "/growers/blocks/")]

    assert many == few


def test_the_block_page_shows_deliveries_by_season_equal_to_an_independent_sum(acme, world):
    tz_day = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC)
    with acme:
        block = Block.objects.get(pk=world["block"])
        packhouse = PackhouseFactory()
        made = [
            BatchFactory(block=block, packhouse=packhouse, intake_date=tz_day, harvest_date=dt.date(2024, 3, 4),
                         bin_count=8, gross_weight_kg=Decimal("3000.50"), tare_weight_kg=Decimal("400.25")),
            BatchFactory(block=block, packhouse=packhouse, intake_date=tz_day + dt.timedelta(days=40),
                         harvest_date=dt.date(2024, 4, 13), bin_count=5, gross_weight_kg=Decimal("2000"),
                         tare_weight_kg=Decimal("250")),
            BatchFactory(block=block, packhouse=packhouse, intake_date=tz_day + dt.timedelta(days=400),
                         harvest_date=dt.date(2025, 4, 8), bin_count=12, gross_weight_kg=Decimal("5100"),
                         tare_weight_kg=Decimal("600")),
        ]
        # Another block's batch counts nowhere here.
        BatchFactory(packhouse=packhouse, intake_date=tz_day, harvest_date=dt.date(2024, 3, 4))
        expected = {}
        for batch in Batch.objects.filter(pk__in=[b.pk for b in made]):
            count, kg, bins = expected.get(batch.season.code, (0, Decimal(0), 0))
            expected[batch.season.code] = (count + 1, kg + batch.net_weight_kg, bins + batch.bin_count)
        assert Batch.objects.filter(block=block).aggregate(kg=Sum("net_weight_kg"))["kg"] == sum(
            kg for _, kg, _ in expected.values())

    response = acme.client(CLERK).get(f"/growers/blocks/{world['block']}/")
    [(template, data)] = [(t, d) for t, d in response.context["panels"] if "block_deliveries" in t]

    shown = {row["season__code"]: (row["batches"], row["net_kg"], row["bins"]) for row in data["seasons"]}
    assert shown == expected == {"2024": (2, Decimal("4350.25"), 13), "2025": (1, Decimal("4500.00"), 12)}
    html = response.text
    assert 'data-testid="season-2024"' in html and "4\u00a0350,25" in html  # en-ZA
    assert all(batch.batch_code in html for batch in made)


def test_the_deliveries_are_one_aggregate_query_whatever_the_seasons(acme, world):
    client = acme.client(CLERK)
    client.get("/")  # the session's first request loads more than any later one
    url = f"/growers/blocks/{world['block']}/"
    with acme:
        block = Block.objects.get(pk=world["block"])
        BatchFactory(block=block)
    few = queries_for(client, url)
    with acme:
        packhouse = PackhouseFactory()
        for year in range(2021, 2026):
            BatchFactory(block=block, packhouse=packhouse, intake_date=dt.datetime(year, 5, 1, 9, tzinfo=dt.UTC),
                         harvest_date=dt.date(year, 4, 30))

    assert queries_for(client, url) == few


def test_deliveries_are_shown_only_to_roles_that_see_batches(acme, world):
    from django.contrib.auth.models import Group

    with acme:
        clerks = Group.objects.get(name=CLERK)
        clerks.permissions.remove(clerks.permissions.get(codename="view_batch"))

    html = acme.client(CLERK).get(f"/growers/blocks/{world['block']}/").text

    assert "Deliveries by season" not in html
    assert "Deliveries by season" in acme.client(MANAGER).get(f"/growers/blocks/{world['block']}/").text
