"""Intake names a block (#16): the form's block picker, the API's `block`, and the old grower/fruit/variety style."""

import csv
import io
import re
import uuid

import pytest

from batches.models import Batch
from core.tenancy import company_today
from growers import services as grower_services
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory

from .factories import BatchFactory

pytestmark = pytest.mark.django_db

GGN = "4001234500003"  # a GS1-valid GGN
LABEL = "K0019 Paardekloof · K0019-F2 Upper farm · B07 (Apple Royal Gala)"


@pytest.fixture
def site(acme):
    with acme:
        grower = GrowerFactory(code="K0019", name="Paardekloof")
        farm = grower_services.create_farm(grower=grower, code="K0019-F2", name="Upper farm", puc="P12345", ggn=GGN)
        block = grower_services.create_block(farm=farm, code="B07", fruit_type="apple", variety="Royal Gala")
        return {"grower": grower, "farm": farm, "block": block, "packhouse": PackhouseFactory(code="PH1")}


def intake_form(site, **overrides):
    data = {"block": "K0019-F2/B07", "packhouse": site["packhouse"].pk, "harvest_date": company_today().isoformat(),
            "bins": "", "bin_count": "10", "gross_weight_kg": "4200", "tare_weight_kg": "400", "notes": "",
            "idempotency_key": uuid.uuid4().hex}
    data.update(overrides)
    return data


def intake_body(site, **overrides):
    body = {"block": site["block"].pk, "packhouse": site["packhouse"].pk, "harvest_date": str(company_today()),
            "bin_count": 10, "gross_weight_kg": "4200.50", "tare_weight_kg": "400.00"}
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


# --- The form ------------------------------------------------------------------


def test_intake_by_block_with_scanned_bins_and_the_docket(acme, site):
    response = acme.client("Clerk").post(
        "/batches/new/", intake_form(site, bins="BIN-001\r\nbin-002\r\n", bin_count="", gross_weight_kg="1100"),
        follow=True,
    )

    assert response.redirect_chain[-1][0].endswith("/docket/")
    html = response.content.decode()
    for text in ("K0019 Paardekloof", "K0019-F2 Upper farm", "B07", "P12345", GGN, str(company_today().year),
                 "BIN-001", "BIN-002", "Apple, Royal Gala", "Received without spray clearance"):
        assert text in html, text
    with acme:
        batch = Batch.objects.get()
        assert (batch.block, batch.grower, batch.fruit_type, batch.variety) == (
            site["block"], site["grower"], "apple", "Royal Gala")
        assert batch.bin_count == 2
        assert list(batch.bins.values_list("code", flat=True)) == ["BIN-001", "BIN-002"]
        assert batch.season.code == str(company_today().year)


def test_a_picked_suggestion_with_names_is_accepted(acme, site):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, block=LABEL))

    assert response.status_code == 302
    with acme:
        assert Batch.objects.get().block == site["block"]


@pytest.mark.parametrize(("block", "message"), [
    ("K0019-F2/B99", "No block K0019-F2/B99"),
    ("Paardekloof", "Pick a block from the list"),
    ("", "This field is required"),
])
def test_an_unknown_or_unparsed_block_is_a_form_error(acme, site, block, message):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, block=block))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["block"])
    with acme:
        assert not Batch.objects.exists()


def test_the_form_shows_the_picked_blocks_grower_and_fruit_and_keeps_the_bins(acme, site):
    response = acme.client("Clerk").post(
        "/batches/new/", intake_form(site, bins="BIN-001\nBIN-002", bin_count="", tare_weight_kg="5000"),
    )

    assert response.status_code == 200
    html = response.content.decode()
    facts = re.search(r'<dl class="facts block-facts".*?</dl>', html, re.S).group(0)
    assert "K0019 Paardekloof" in facts and "Royal Gala" in facts and "Apple" in facts
    assert "BIN-001\nBIN-002</textarea>" in html
    assert 'src="/static/js/intake.js' in html


def test_an_inactive_block_is_refused_beside_the_block(acme, site):
    with acme:
        grower_services.update_block(site["block"], active=False)

    response = acme.client("Clerk").post("/batches/new/", intake_form(site))

    assert "inactive" in " ".join(response.context["form"].errors["block"])


def test_neither_bins_nor_a_count_is_a_form_error(acme, site):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, bin_count=""))

    assert "scan their codes" in " ".join(response.context["form"].errors["bin_count"])


@pytest.mark.parametrize(("bins", "field", "message"), [
    ("BIN-1\nBIN-1", "bins", "Scanned twice: BIN-1"),
    ("BIN-1 bad!", "bins", "Not a bin code: BAD!"),
])
def test_service_refusals_of_bins_show_beside_the_field(acme, site, bins, field, message):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, bins=bins, bin_count=""))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    with acme:
        assert not Batch.objects.exists()


def test_a_bin_in_an_open_batch_is_refused_naming_the_batch(acme, site):
    with acme:
        first = BatchFactory(block=site["block"], packhouse=site["packhouse"], bins=["BIN-7"], bin_count=None)

    response = acme.client("Clerk").post("/batches/new/", intake_form(site, bins="bin-7", bin_count=""))

    assert f"BIN-7 ({first.batch_code})" in " ".join(response.context["form"].errors["bins"])


def test_a_count_that_disagrees_with_the_scans_is_refused(acme, site):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, bins="A1\nA2", bin_count="3"))

    assert "2 bins were scanned but the bin count says 3" in " ".join(response.context["form"].errors["bin_count"])


def test_pressing_save_twice_records_one_batch_and_its_bins_once(acme, site):
    client = acme.client("Clerk")
    form = intake_form(site, bins="BIN-1\nBIN-2", bin_count="", gross_weight_kg="1100")

    first = client.post("/batches/new/", form)
    again = client.post("/batches/new/", form, follow=True)

    assert again.redirect_chain[-1][0] == first["Location"]
    assert "was already recorded" in again.content.decode()
    with acme:
        assert Batch.objects.get().bins.count() == 2


def test_a_link_from_a_block_starts_the_form_with_it(acme, site):
    response = acme.client("Clerk").get(f"/batches/new/?block={site['block'].pk}")

    assert 'value="K0019-F2/B07"' in response.content.decode()
    assert response.context["form"].picked_block() == site["block"]


# --- The block picker ----------------------------------------------------------


@pytest.mark.parametrize("query", ["paardekloof", "K0019", "k0019-f2", "upper b07", "K0019-F2/B0", "b07"])
def test_the_picker_finds_the_block_by_grower_farm_or_block(acme, site, query):
    response = acme.client("Clerk").get("/batches/blocks/", {"block": query})

    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="K0019-F2/B07"' in html and LABEL in html
    assert 'data-grower="K0019 Paardekloof"' in html and 'data-variety="Royal Gala"' in html


def test_the_picker_leaves_out_inactive_blocks_and_stops_at_twenty(acme, site):
    with acme:
        for number in range(25):
            grower_services.create_block(farm=site["farm"], code=f"C{number:02d}", fruit_type="pear",
                                         variety="Forelle")
        grower_services.update_block(site["block"], active=False)

    html = acme.client("Clerk").get("/batches/blocks/", {"q": "K0019"}).content.decode()

    assert html.count("<option") == 20
    assert "B07" not in html


def test_the_picker_without_text_suggests_nothing(acme, site):
    assert "<option" not in acme.client("Clerk").get("/batches/blocks/").content.decode()


def test_the_picker_is_for_those_who_record_intake(acme, site):
    assert acme.client("Finance").get("/batches/blocks/", {"q": "K0019"}).status_code == 403
    anonymous = acme.client().get("/batches/blocks/", {"q": "K0019"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_picker_never_shows_another_companys_blocks(acme, globex, site):
    response = globex.client("Clerk").get("/batches/blocks/", {"q": "K0019"})

    assert response.status_code == 200
    assert "<option" not in response.content.decode()


# --- The API -------------------------------------------------------------------


def test_api_intake_by_block_with_bins(acme, site):
    response = acme.api_client("Clerk").post(
        "/api/batches/", intake_body(site, bin_count=None, bins=["BIN-001", "bin-002"], gross_weight_kg="1100.00"),
        format="json",
    )

    assert response.status_code == 201, response.content
    batch = response.json()
    assert (batch["block"], batch["farm"], batch["block_code"]) == (site["block"].pk, "K0019-F2", "B07")
    assert (batch["season"], batch["bins"], batch["bin_count"]) == (str(company_today().year),
                                                                   ["BIN-001", "BIN-002"], 2)
    assert (batch["fruit_type"], batch["variety"], batch["grower"]["code"]) == ("apple", "Royal Gala", "K0019")
    assert batch["without_clearance"] is True


def old_style(site, **overrides):
    return intake_body(site, **{"block": None, "grower": site["grower"].pk, "fruit_type": "apple",
                                "variety": "royal gala", **overrides})


def test_api_old_style_intake_finds_the_one_matching_block(acme, site):
    response = acme.api_client("Clerk").post("/api/batches/", old_style(site), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["block"] == site["block"].pk


def test_api_old_style_intake_with_no_matching_block_is_400(acme, site):
    response = acme.api_client("Clerk").post("/api/batches/", old_style(site, fruit_type="pear"), format="json")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("invalid", ["block"])
    assert "K0019 has no active block of pear" in body["errors"]["block"][0]
    with acme:
        assert not Batch.objects.exists()


def test_api_old_style_intake_with_two_matching_blocks_is_400_naming_them(acme, site):
    with acme:
        other = grower_services.create_block(farm=site["farm"], code="B08", fruit_type="apple", variety="Royal Gala")

    response = acme.api_client("Clerk").post("/api/batches/", old_style(site), format="json")

    assert response.status_code == 400
    message = response.json()["errors"]["block"][0]
    assert f"{site['block'].pk} (K0019-F2/B07)" in message and f"{other.pk} (K0019-F2/B08)" in message
    assert "Send `block`" in message
    with acme:
        assert not Batch.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"block": None}, "block"),
    ({"block": 999999}, "block"),
    ({"fruit_type": "pear"}, "fruit_type"),
    ({"bin_count": None}, "bin_count"),
    ({"bins": ["OK-1", "OK-1"], "bin_count": None}, "bins"),
    ({"bins": ["no spaces"], "bin_count": None}, "bins"),
    ({"bins": "BIN-1"}, "bins"),
])
def test_api_bad_block_or_bins_is_400_naming_the_field(acme, site, overrides, field):
    response = acme.api_client("Clerk").post("/api/batches/", intake_body(site, **overrides), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    with acme:
        assert not Batch.objects.exists()


def test_api_another_companys_block_does_not_exist_here(acme, globex, site):
    with globex:
        packhouse = PackhouseFactory(code="PH1")
    response = globex.api_client("Clerk").post(
        "/api/batches/", {**intake_body(site), "packhouse": packhouse.pk}, format="json",
    )

    assert response.status_code == 400
    assert "block" in response.json()["errors"]
    with globex:
        assert not Batch.objects.exists()


def test_api_intake_by_block_is_refused_to_finance_and_anonymous(acme, site):
    assert acme.api_client("Finance").post("/api/batches/", intake_body(site), format="json").status_code == 403
    assert acme.api_client().post("/api/batches/", intake_body(site), format="json").status_code == 401


# --- List, filters, export and detail ------------------------------------------


@pytest.fixture
def two_farms(acme, site):
    """One batch from K0019-F2/B07 with two bins, one from another grower's farm."""
    with acme:
        here = BatchFactory(block=site["block"], packhouse=site["packhouse"], bins=["BIN-1", "BIN-2"],
                            bin_count=None)
        there = BatchFactory(packhouse=site["packhouse"])
    return here, there


def test_api_list_has_block_farm_season_and_bins_and_filters_by_farm_and_block(acme, site, two_farms):
    here, there = two_farms
    api = acme.api_client("Finance")

    def codes(query):
        response = api.get(f"/api/batches/?{query}")
        assert response.status_code == 200, response.content
        return {row["batch_code"] for row in response.json()["items"]}

    rows = {row["batch_code"]: row for row in api.get("/api/batches/").json()["items"]}
    assert rows[here.batch_code]["bins"] == ["BIN-1", "BIN-2"] and rows[there.batch_code]["bins"] == []
    assert rows[here.batch_code]["farm"] == "K0019-F2"
    assert codes("farm=K0019-F2") == codes(f"farm={site['farm'].pk}") == {here.batch_code}
    assert codes(f"block={site['block'].pk}") == codes("block=k0019-f2/b07") == {here.batch_code}
    assert codes(f"block={there.block_id}") == {there.batch_code}
    assert codes("farm=NOPE") == set()
    bad = api.get("/api/batches/?block=not a block")
    assert bad.status_code == 400 and "block" in bad.json()["errors"]


def test_html_list_shows_farm_and_block_and_filters_by_them(acme, site, two_farms):
    here, there = two_farms
    response = acme.client("Clerk").get("/batches/?farm=K0019-F2")

    html = response.content.decode()
    assert here.batch_code in html and there.batch_code not in html
    assert "K0019-F2/B07" in html  # farm and block, one column


def test_csv_export_has_farm_and_block(acme, site, two_farms):
    here, _ = two_farms
    response = acme.client("Clerk").get("/batches/export.csv?block=K0019-F2/B07")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row["Batch code"], row["Farm"], row["Block"]) for row in rows] == [(here.batch_code, "K0019-F2", "B07")]


def test_api_list_query_count_does_not_grow_with_page_size(acme, site):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = acme.api_client("Finance")
    with acme:
        for number in range(6):
            BatchFactory(block=site["block"], packhouse=site["packhouse"], bins=[f"Y-{number}", f"Z-{number}"],
                         bin_count=None)
    sizes = {}
    for limit in (1, 6):
        url = f"/api/batches/?farm=K0019-F2&limit={limit}"
        api.get(url)  # the total is counted once, then cached
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert len(response.json()["items"]) == limit
        assert all(len(row["bins"]) == 2 for row in response.json()["items"])
        sizes[limit] = len(queries)
    assert sizes[6] == sizes[1]


def test_html_list_query_count_does_not_grow_with_rows(acme, site):
    from core.tests.helpers import queries_for

    client = acme.client("Clerk")
    with acme:
        BatchFactory(block=site["block"], packhouse=site["packhouse"], bins=["X-1"], bin_count=None)
    queries_for(client, "/batches/")
    few = queries_for(client, "/batches/")
    with acme:
        for _ in range(8):
            BatchFactory()
    assert queries_for(client, "/batches/") == few


def test_detail_shows_block_farm_season_bins_and_the_clearance_flag(acme, site, two_farms):
    here, _ = two_farms

    html = acme.client("Clerk").get(f"/batches/{here.pk}/").content.decode()

    for text in ("K0019-F2 Upper farm", "B07", str(company_today().year), "BIN-1, BIN-2",
                 "Received without spray clearance"):
        assert text in html, text
