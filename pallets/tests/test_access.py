from decimal import Decimal

import pytest

from core.tests.helpers import queries_for
from packhouses.tests.factories import PackhouseFactory
from pallets import services
from pallets.models import Pallet

from .factories import pallet_with_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(gs1):
    with gs1:
        pallet, batch = pallet_with_batch()
        services.add_line(pallet, batch=batch, grade="class1", cartons=80, kg=Decimal("1500"))
        room = services.create_room(packhouse=pallet.packhouse, code="CR1", name="Cold room 1", capacity=20)
    return pallet, batch, room


def test_clerk_builds_fills_closes_and_moves_through_the_api(gs1, filled):
    pallet, batch, room = filled
    api = gs1.api_client("Clerk")

    built = api.post("/api/pallets/", {"packhouse": pallet.packhouse_id}, format="json")
    assert built.status_code == 201, built.content
    new = built.json()
    assert len(new["sscc"]) == 18 and new["status"] == "open"
    line = api.post(f"/api/pallets/{new['id']}/lines/", {"batch": batch.pk, "grade": "class1", "cartons": 10,
                                                          "kg": "1500.00"}, format="json")
    assert line.status_code == 201, line.content
    too_much = api.post(f"/api/pallets/{new['id']}/lines/", {"batch": batch.pk, "grade": "class1", "cartons": 1,
                                                              "kg": "0.01"}, format="json")
    assert too_much.status_code == 400 and "kg" in too_much.json()["errors"]
    assert api.post(f"/api/pallets/{new['id']}/close/", {}, format="json").json()["status"] == "closed"
    moved = api.post(f"/api/pallets/{new['id']}/move/", {"room": room.pk}, format="json")
    assert moved.status_code == 200 and moved.json()["room"]["code"] == "CR1" and moved.json()["warning"] is None
    assert api.post(f"/api/pallets/{new['id']}/reopen/", {}, format="json").status_code == 403
    assert gs1.api_client("Manager").post(f"/api/pallets/{new['id']}/reopen/", {}, format="json").json()[
        "status"] == "open"

    listed = api.get(f"/api/pallets/?batch={batch.pk}&ordering=sscc").json()
    assert listed["total"] == 2 and {p["kg"] for p in listed["items"]} == {"1500.00"}
    assert api.get("/api/pallets/?status=stored").json()["total"] == 0
    assert api.get(f"/api/pallets/?q={new['sscc'][:12]}").json()["total"] >= 1
    assert api.get("/api/rooms/").json()["items"][0]["code"] == "CR1"


def test_remove_line_through_the_api(gs1, filled):
    pallet, _, _ = filled
    api = gs1.api_client("Clerk")
    line_id = api.get(f"/api/pallets/{pallet.pk}/").json()["lines"][0]["id"]

    removed = api.delete(f"/api/pallets/{pallet.pk}/lines/{line_id}/")

    assert removed.status_code == 200 and removed.json()["lines"] == []


def test_finance_reads_but_does_not_build(gs1, filled):
    pallet, _, _ = filled
    api = gs1.api_client("Finance")

    assert api.get("/api/pallets/").status_code == 200
    assert api.post("/api/pallets/", {"packhouse": pallet.packhouse_id}, format="json").status_code == 403
    assert api.post(f"/api/pallets/{pallet.pk}/close/", {}, format="json").status_code == 403
    client = gs1.client("Finance")
    assert client.get(f"/pallets/{pallet.pk}/").status_code == 200
    assert client.post("/pallets/build/", {"packhouse": pallet.packhouse_id}).status_code == 403


def test_anonymous_is_sent_to_login(gs1, filled):
    pallet, _, _ = filled
    assert gs1.api_client().get("/api/pallets/").status_code == 401
    response = gs1.client().get(f"/pallets/{pallet.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_other_company_sees_nothing(gs1, globex, filled):
    pallet, _, room = filled
    assert globex.api_client("Manager").get(f"/api/pallets/{pallet.pk}/").status_code == 404
    assert globex.client("Manager").get(f"/pallets/{pallet.pk}/label/").status_code == 404
    assert globex.client("Manager").get(f"/pallets/rooms/{room.pk}/").status_code == 404
    assert globex.api_client("Manager").get("/api/pallets/").json()["total"] == 0


def test_pages(gs1, filled):
    pallet, batch, room = filled
    client = gs1.client("Clerk")

    detail = client.get(f"/pallets/{pallet.pk}/").content.decode()
    assert pallet.sscc in detail and "1500.00" in detail
    assert "kg left to palletise" in detail and "1500.00" in detail  # 3,000 packed, 1,500 on the pallet
    assert pallet.sscc in client.get(f"/batches/{batch.pk}/").content.decode()  # the batch page's panel
    added = client.post(f"/pallets/{pallet.pk}/lines/", {"batch": batch.pk, "grade": "class1", "cartons": 1,
                                                         "kg": "1500.01", "idempotency_key": "too-much"})
    assert added.status_code == 400 and "left to put on pallets" in added.content.decode()
    client.post(f"/pallets/{pallet.pk}/close/")
    response = client.post("/pallets/move/", {"sscc": pallet.sscc, "room": "cr1"}, follow=True)
    assert f"Pallet {pallet.sscc} is in room CR1." in response.content.decode()
    stock = client.get(f"/pallets/rooms/{room.pk}/").content.decode()
    assert pallet.sscc in stock and "Gala" in stock and "Class 1" in stock
    label = client.get(f"/pallets/{pallet.pk}/label/").content.decode()
    assert f"(00){pallet.sscc}" in label and "(37)80" in label and f"(10){batch.batch_code}" in label
    assert "<svg" in label and "style=" not in label.split("<svg", 1)[1]
    assert client.post(f"/pallets/{pallet.pk}/reopen/").status_code == 403


def test_no_prefix_message_on_the_build_page(acme):
    with acme:
        packhouse = PackhouseFactory()
    response = acme.client("Clerk").post("/pallets/build/", {"packhouse": packhouse.pk, "idempotency_key": "k1"})
    assert response.status_code == 200 and "GS1 company prefix" in response.content.decode()
    with acme:
        assert not Pallet.objects.exists()


def test_list_queries_do_not_grow_with_the_page(gs1, filled):
    pallet, _, _ = filled
    client = gs1.client("Clerk")
    with gs1:
        for _ in range(5):
            services.build_pallet(pallet.packhouse)
    one = queries_for(client, f"/pallets/?q={pallet.sscc}")
    many = queries_for(client, "/pallets/")
    assert many <= one  # seven pallets cost no more queries than one
