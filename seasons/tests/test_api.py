"""/api/seasons/: every role that reads batches lists and reads seasons; managers create and PATCH them."""

import datetime as dt

import pytest

from batches.tests.factories import BatchFactory
from seasons import services
from seasons.models import Season

pytestmark = pytest.mark.django_db

NEW = {"code": "2031", "name": "Season 2031", "start_date": "2031-01-01", "end_date": "2031-12-31"}


@pytest.mark.parametrize("role", ["Clerk", "Finance", "Manager"])
def test_every_role_lists_seasons_in_the_envelope(acme, role):
    body = acme.api_client(role).get("/api/seasons/?ordering=start_date&limit=3").json()

    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["limit"] == 3 and body["total"] >= 11
    assert [item["code"] for item in body["items"]] == ["2020", "2021", "2022"]
    assert set(body["items"][0]) == {"id", "code", "name", "start_date", "end_date", "created_at", "updated_at"}


def test_search_and_retrieve(acme):
    api = acme.api_client("Clerk")
    [found] = api.get("/api/seasons/?q=2027").json()["items"]

    assert api.get(f"/api/seasons/{found['id']}/").json()["end_date"] == "2027-12-31"


def test_manager_creates_and_patches_a_season(acme, committed):
    api = acme.api_client("Manager")

    with committed():
        made = api.post("/api/seasons/", NEW, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["code"] == "2031"
    # The new season is in the (cached) list at once: the service bumped the generation.
    assert "2031" in [s["code"] for s in api.get("/api/seasons/?q=2031").json()["items"]]

    patched = api.patch(f"/api/seasons/{made.json()['id']}/", {"name": "Twenty-thirty-one", "end_date": "2032-01-31"},
                        format="json")
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["end_date"]) == ("Twenty-thirty-one", "2032-01-31")


def test_the_code_cannot_be_patched_and_put_is_not_offered(acme):
    api = acme.api_client("Manager")
    with acme:
        season = Season.objects.get(code="2030")

    refused = api.patch(f"/api/seasons/{season.pk}/", {"code": "2099"}, format="json")
    assert refused.status_code == 400 and "code" in refused.json()["errors"]
    assert api.put(f"/api/seasons/{season.pk}/", {**NEW, "code": "2030"}, format="json").status_code == 405
    assert api.delete(f"/api/seasons/{season.pk}/").status_code == 405


def test_an_overlap_is_a_400_naming_the_other_season(acme):
    response = acme.api_client("Manager").post(
        "/api/seasons/", {**NEW, "code": "MID", "start_date": "2029-06-01", "end_date": "2029-06-30"}, format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"]["start_date"] == ["These dates overlap season 2029 (01 Jan 2029 to 31 Dec 2029)."]
    with acme:
        assert not Season.objects.filter(code="MID").exists()


def test_a_duplicate_code_and_bad_dates_are_400s(acme):
    api = acme.api_client("Manager")

    assert "code" in api.post("/api/seasons/", {**NEW, "code": "2030"}, format="json").json()["errors"]
    backwards = api.post("/api/seasons/", {**NEW, "end_date": "2030-12-31"}, format="json")
    assert backwards.status_code == 400 and "end_date" in backwards.json()["errors"]
    assert api.post("/api/seasons/", {**NEW, "code": "bad code"}, format="json").status_code == 400


def test_narrowing_a_season_that_holds_batches_is_a_400(acme):
    with acme:
        batch = BatchFactory()
        season = batch.season
        end = season.end_date
    response = acme.api_client("Manager").patch(
        f"/api/seasons/{season.pk}/", {"end_date": season.start_date.isoformat()}, format="json",
    )

    assert response.status_code == 400
    assert "received on days the new dates leave out" in response.json()["errors"]["start_date"][0]
    with acme:
        season.refresh_from_db()
    assert season.end_date == end


@pytest.mark.parametrize("role", ["Clerk", "Finance"])
def test_clerks_and_finance_may_not_write(acme, role):
    api = acme.api_client(role)
    with acme:
        season = Season.objects.get(code="2030")

    assert api.post("/api/seasons/", NEW, format="json").status_code == 403
    assert api.patch(f"/api/seasons/{season.pk}/", {"name": "Sneaky"}, format="json").status_code == 403
    with acme:
        assert not Season.objects.filter(code="2031").exists()
        assert Season.objects.get(pk=season.pk).name == "Season 2030"


def test_anonymous_gets_401(acme):
    api = acme.api_client()

    assert api.get("/api/seasons/").status_code == 401
    assert api.post("/api/seasons/", NEW, format="json").status_code == 401


def test_the_other_companys_token_and_seasons(acme, globex):
    with globex:
        secret = services.create_season(code="GX-SECRET", name="Globex secret", start_date=dt.date(2045, 1, 1),
                                        end_date=dt.date(2045, 12, 31))
    with acme:
        Season.objects.filter(pk=secret.pk).delete()  # ids are per schema: make sure this one names nothing here
    api = acme.api_client("Manager")

    assert api.get(f"/api/seasons/{secret.pk}/").status_code == 404
    assert api.patch(f"/api/seasons/{secret.pk}/", {"name": "Hijacked"}, format="json").status_code == 404
    assert "GX-SECRET" not in api.get("/api/seasons/?limit=500").content.decode()
    # A globex token on acme's host is refused.
    stranger = globex.api_client("Manager")
    assert stranger.get("/api/seasons/", HTTP_HOST=acme.host).status_code == 401
    with globex:
        assert Season.objects.get(pk=secret.pk).name == "Globex secret"


def test_the_list_query_count_does_not_grow_with_page_size(acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = acme.api_client("Clerk")
    counts = []
    for limit in (1, 12):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"/api/seasons/?limit={limit}&q=20").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
