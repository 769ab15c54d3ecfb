import pytest

from core.tests.helpers import queries_for
from dispatch import services
from packhouses.tests.factories import PackhouseFactory

from .factories import load_with, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(gs1):
    with gs1:
        packhouse, batch, one, two = world()
        load = load_with(packhouse, [one], vehicle_registration="CA 123-456", seal_number="SEAL-77",
                         destination="Cape Town harbour", consignee="Fresh Imports BV",
                         container_number="CSQU3054383")
    return load, batch, one, two


def test_clerk_scans_and_dispatches_through_the_api(gs1, loaded):
    load, batch, one, two = loaded
    api = gs1.api_client("Clerk")

    created = api.post("/api/loads/", {"packhouse": load.packhouse_id, "container_number": "CSQU3054384"},
                       format="json")
    assert created.status_code == 400 and "container_number" in created.json()["errors"]
    created = api.post("/api/loads/", {"packhouse": load.packhouse_id, "destination": "Durban"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "planning" and created.json()["load_number"].startswith("L")

    refused = api.post(f"/api/loads/{created.json()['id']}/pallets/", {"sscc": one.sscc}, format="json")
    assert refused.status_code == 400 and f"already on load {load.load_number}" in str(refused.json())
    added = api.post(f"/api/loads/{load.pk}/pallets/", {"sscc": two.sscc}, format="json")
    assert added.status_code == 201 and {p["sscc"] for p in added.json()["pallets"]} == {one.sscc, two.sscc}
    removed = api.delete(f"/api/loads/{load.pk}/pallets/{two.pk}/")
    assert removed.status_code == 200 and len(removed.json()["pallets"]) == 1
    api.post(f"/api/loads/{load.pk}/pallets/", {"sscc": two.sscc}, format="json")
    patched = api.patch(f"/api/loads/{load.pk}/", {"seal_number": "SEAL-78"}, format="json")
    assert patched.status_code == 200 and patched.json()["seal_number"] == "SEAL-78"

    dispatched = api.post(f"/api/loads/{load.pk}/dispatch/", {}, format="json")
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.json()["status"] == "dispatched" and dispatched.json()["batches_dispatched"] == [batch.batch_code]
    again = api.post(f"/api/loads/{load.pk}/dispatch/", {}, format="json")
    assert again.status_code == 400 and "dispatched on" in str(again.json())
    assert api.patch(f"/api/loads/{load.pk}/", {"seal_number": "X"}, format="json").status_code == 400
    listed = api.get("/api/loads/?status=dispatched").json()
    assert listed["total"] == 1 and listed["items"][0]["pallet_count"] == 2 and listed["items"][0]["kg"] == "3450.00"
    assert api.get(f"/api/loads/?q={load.load_number}").json()["total"] == 1


def test_finance_reads_but_does_not_load(gs1, loaded):
    load, batch, one, two = loaded
    api = gs1.api_client("Finance")
    assert api.get("/api/loads/").status_code == 200
    assert api.get(f"/api/loads/{load.pk}/").status_code == 200
    assert api.post("/api/loads/", {"packhouse": load.packhouse_id}, format="json").status_code == 403
    assert api.post(f"/api/loads/{load.pk}/pallets/", {"sscc": two.sscc}, format="json").status_code == 403
    assert api.delete(f"/api/loads/{load.pk}/pallets/{one.pk}/").status_code == 403
    assert api.post(f"/api/loads/{load.pk}/dispatch/", {}, format="json").status_code == 403
    assert api.patch(f"/api/loads/{load.pk}/", {"seal_number": "X"}, format="json").status_code == 403
    client = gs1.client("Finance")
    for url in ("/loads/", f"/loads/{load.pk}/", f"/loads/{load.pk}/note/", f"/loads/{load.pk}/note.csv"):
        assert client.get(url).status_code == 200, url
    assert client.get("/loads/new/").status_code == 403
    assert client.post(f"/loads/{load.pk}/pallets/", {"sscc": two.sscc}).status_code == 403
    assert client.post(f"/loads/{load.pk}/dispatch/", {"confirm": "yes"}).status_code == 403
    assert client.post(f"/loads/{load.pk}/pallets/{one.pk}/remove/").status_code == 403


def test_anonymous_is_sent_to_login(gs1, loaded):
    load, *_ = loaded
    api = gs1.api_client()
    for url in ("/api/loads/", f"/api/loads/{load.pk}/", "/api/trace/?q=X", "/api/trace/csv/?q=X"):
        assert api.get(url).status_code == 401, url
    assert api.post(f"/api/loads/{load.pk}/dispatch/").status_code == 401
    client = gs1.client()
    for url in ("/loads/", f"/loads/{load.pk}/", f"/loads/{load.pk}/note/", "/loads/new/", "/trace/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_the_other_company_sees_nothing(gs1, globex, loaded):
    load, batch, one, _ = loaded
    api = globex.api_client("Manager")
    assert api.get(f"/api/loads/{load.pk}/").status_code == 404
    assert api.post(f"/api/loads/{load.pk}/dispatch/", {}, format="json").status_code == 404
    assert api.post(f"/api/loads/{load.pk}/pallets/", {"sscc": one.sscc}, format="json").status_code == 404
    assert api.get("/api/loads/").json()["total"] == 0
    assert api.get(f"/api/trace/?q={load.load_number}").json()["batches"] == []
    client = globex.client("Manager")
    for url in (f"/loads/{load.pk}/", f"/loads/{load.pk}/note/", f"/loads/{load.pk}/note.csv"):
        assert client.get(url).status_code == 404, url
    page = client.get(f"/trace/?q={load.load_number}").content.decode()
    assert "Nothing found" in page and one.sscc not in page and batch.batch_code not in page


def test_pages(gs1, loaded):
    load, batch, one, two = loaded
    client = gs1.client("Clerk")

    created = client.post("/loads/new/", {"packhouse": load.packhouse_id, "container_number": "CSQU3054384"})
    assert created.status_code == 400 and "ISO 6346" in created.content.decode()
    detail = client.get(f"/loads/{load.pk}/").content.decode()
    assert one.sscc in detail and "data-scan-load" in detail and "<script>" not in detail
    refused = client.post(f"/loads/{load.pk}/pallets/", {"sscc": "3" + "0" * 17})
    assert refused.status_code == 400 and "No pallet of this company has SSCC" in refused.content.decode()
    added = client.post(f"/loads/{load.pk}/pallets/", {"sscc": two.sscc}, follow=True)
    assert f"Pallet {two.sscc} is on load {load.load_number}." in added.content.decode()
    note = client.get(f"/loads/{load.pk}/note/").content.decode()
    assert two.sscc in note and "SEAL-77" in note and "CA 123-456" in note and "CSQU3054383" in note
    assert "Fresh Imports BV" in note and "Class 2" in note and "3\u00a0450" in note
    csv = b"".join(client.get(f"/loads/{load.pk}/note.csv").streaming_content).decode()
    assert csv.splitlines()[0].startswith("load,sscc,batch") and len(csv.splitlines()) == 4
    unconfirmed = client.post(f"/loads/{load.pk}/dispatch/", {}, follow=True).content.decode()
    assert "Tick the box" in unconfirmed
    done = client.post(f"/loads/{load.pk}/dispatch/", {"confirm": "yes"}, follow=True).content.decode()
    assert "dispatched" in done and batch.batch_code in done


def test_list_queries_do_not_grow_with_the_page(gs1, loaded):
    load, *_ = loaded
    client = gs1.client("Clerk")
    with gs1:
        for _ in range(5):
            services.create_load(packhouse=PackhouseFactory())
    one = queries_for(client, f"/loads/?q={load.load_number}")
    many = queries_for(client, "/loads/")
    assert many <= one
