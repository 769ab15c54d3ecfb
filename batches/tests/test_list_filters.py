"""The batch list's filter bar (#13): one search box, packhouse, status and fruit chips; the API takes the same."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches import services
from batches.filters import BatchFilterSet
from batches.models import Batch
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory

from .factories import BatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def yard(acme):
    """Two packhouses, three growers (two named alike), batches in several statuses and fruits."""
    with acme:
        north, south = PackhouseFactory(code="NORTH"), PackhouseFactory(code="SOUTH")
        kloof = GrowerFactory(code="G0019", name="Paardekloof Boerdery")
        kloof_two = GrowerFactory(code="G0020", name="Paardekloof Estates")
        other = GrowerFactory(code="G0100", name="Oak Valley")
        batches = {
            "kloof": BatchFactory(grower=kloof, packhouse=north),
            "kloof_two": BatchFactory(grower=kloof_two, packhouse=south, fruit_type="pear", variety="Forelle"),
            "oak": BatchFactory(grower=other, packhouse=south, fruit_type="citrus", variety="Navel"),
            "oak_grading": BatchFactory(grower=other, packhouse=north),
        }
        batches["oak_grading"] = services.transition(batches["oak_grading"], "grading")
        batches["oak_rejected"] = services.transition(BatchFactory(grower=other, packhouse=north), "rejected",
                                                      reason="Hail")
    return {"north": north, "south": south, "batches": batches}


def codes_in(html):
    return sorted(re.findall(r">([A-Z0-9]+-\d{8}-\d{4})</a>", html))


def codes(*batches):
    return sorted(batch.batch_code for batch in batches)


def api_codes(acme, query):
    response = acme.api_client("Clerk").get(f"/api/batches/?{query}")
    assert response.status_code == 200, response.content
    return sorted(item["batch_code"] for item in response.json()["items"])


@pytest.mark.parametrize("typed", ["paardekloof", "KLOOF", "  Paardek  "])
def test_search_by_part_of_a_grower_name_finds_their_batches(acme, yard, typed):
    b = yard["batches"]

    html = acme.client("Clerk").get("/batches/", {"q": typed}).content.decode()

    assert codes_in(html) == codes(b["kloof"], b["kloof_two"])
    assert api_codes(acme, f"q={typed.strip()}") == codes(b["kloof"], b["kloof_two"])


def test_search_by_grower_code_prefix_and_by_batch_code(acme, yard):
    b = yard["batches"]
    client = acme.client("Clerk")

    assert codes_in(client.get("/batches/?q=g0019").content.decode()) == codes(b["kloof"])
    assert codes_in(client.get("/batches/", {"q": b["oak"].batch_code.lower()}).content.decode()) == codes(b["oak"])
    assert codes_in(client.get("/batches/?q=nobody-at-all").content.decode()) == []


def test_search_reads_growers_first_so_the_list_query_never_joins_them(acme, yard):
    """The list's WHERE is batch_code, id and grower_id: columns batches' indexes hold; a join or EXISTS on
    growers inside the OR would make PostgreSQL read every batch on a million-row company."""
    with acme:
        filterset = BatchFilterSet({"q": "paardekloof"}, queryset=Batch.objects.all())
        assert filterset.is_valid()
        sql = str(filterset.qs.query)

    where = sql.split(" WHERE ", 1)[1]
    assert '"grower_id" IN (' in where
    assert "growers" not in where and "EXISTS" not in where


def test_packhouse_filter(acme, yard):
    b = yard["batches"]
    south = yard["south"].pk

    html = acme.client("Clerk").get(f"/batches/?packhouse={south}").content.decode()

    assert codes_in(html) == codes(b["kloof_two"], b["oak"])
    assert api_codes(acme, f"packhouse={south}") == codes(b["kloof_two"], b["oak"])
    assert f'<option value="{south}" selected>' in html


def test_several_statuses_and_fruits_at_once(acme, yard):
    b = yard["batches"]
    client = acme.client("Clerk")

    statuses = client.get("/batches/?status=grading&status=rejected").content.decode()
    fruits = client.get("/batches/?fruit_type=pear&fruit_type=citrus").content.decode()

    assert codes_in(statuses) == codes(b["oak_grading"], b["oak_rejected"])
    assert codes_in(fruits) == codes(b["kloof_two"], b["oak"])
    assert api_codes(acme, "status=grading&status=rejected") == codes(b["oak_grading"], b["oak_rejected"])
    assert api_codes(acme, "fruit_type=pear&fruit_type=citrus") == codes(b["kloof_two"], b["oak"])


def test_filters_combine(acme, yard):
    b = yard["batches"]
    query = f"q=oak&packhouse={yard['north'].pk}&status=received&status=grading"

    assert codes_in(acme.client("Clerk").get(f"/batches/?{query}").content.decode()) == codes(b["oak_grading"])
    assert api_codes(acme, query) == codes(b["oak_grading"])


def test_status_and_fruit_are_check_boxes_not_a_multi_select(acme, yard):
    html = acme.client("Clerk").get("/batches/?status=grading&status=rejected").content.decode()

    assert "<select multiple" not in html and "multiple>" not in html
    assert re.search(r'<input type="checkbox" name="status" value="grading"[^>]*checked', html)
    assert re.search(r'<input type="checkbox" name="status" value="rejected"[^>]*checked', html)
    assert not re.search(r'<input type="checkbox" name="status" value="packed"[^>]*checked', html)
    assert html.count('type="checkbox" name="fruit_type"') == 7
    # The rarer filters are folded away until one is used.
    assert '<details class="more-filters">' in html
    folded_open = acme.client("Clerk").get("/batches/?variety=gala").content.decode()
    assert '<details class="more-filters" open>' in folded_open and "(1 in use)" in folded_open


def test_received_without_clearance_filter(acme, yard):
    b = yard["batches"]
    with acme:
        Batch.objects.exclude(pk=b["oak"].pk).update(without_clearance=False)
        Batch.objects.filter(pk=b["oak"].pk).update(without_clearance=True)

    assert codes_in(acme.client("Clerk").get("/batches/?without_clearance=true").content.decode()) == codes(b["oak"])
    assert api_codes(acme, "without_clearance=true") == codes(b["oak"])
    assert acme.api_client("Clerk").get("/api/batches/?without_clearance=perhaps").status_code == 400


def test_an_over_long_search_is_a_form_error_and_a_400(acme, yard):
    page = acme.client("Clerk").get("/batches/", {"q": "x" * 101})

    assert page.status_code == 200 and codes_in(page.content.decode()) == []
    assert acme.api_client("Clerk").get("/api/batches/", {"q": "x" * 101}).status_code == 400


@pytest.mark.parametrize("query", ["q=paardekloof", "q=oak&status=received&status=grading&packhouse=1"])
def test_filtered_list_query_count_does_not_grow_with_rows(acme, yard, query):
    client = acme.client("Clerk")
    client.get(f"/batches/?{query}")  # warm up: the first request also caches the host's company
    with CaptureQueriesContext(connection) as few:
        client.get(f"/batches/?{query}")
    with acme:
        grower = yard["batches"]["kloof"].grower
        for _ in range(20):
            BatchFactory(grower=grower, packhouse=yard["north"], gross_weight_kg=Decimal("3000"))
    with CaptureQueriesContext(connection) as many:
        client.get(f"/batches/?{query}")

    assert len(many) == len(few)
