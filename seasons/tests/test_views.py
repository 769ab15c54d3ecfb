"""The season pages: every role that reads batches sees the list; only managers add and edit."""

import datetime as dt

import pytest

from batches.tests.factories import BatchFactory
from core.tenancy import company_today
from core.tests.helpers import queries_for
from seasons import services
from seasons.models import Season

pytestmark = pytest.mark.django_db

NEW = {"code": "2031", "name": "Season 2031", "start_date": "2031-01-01", "end_date": "2031-12-31"}


@pytest.mark.parametrize("role", ["Clerk", "Finance", "Manager"])
def test_every_role_sees_the_list_with_the_current_season_marked(acme, role):
    page = acme.client(role).get("/seasons/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Season 2030" in html and 'data-testid="current-season"' in html
    assert ("Add season" in html) == (role == "Manager")
    assert ('aria-label="Edit season 2030"' in html) == (role == "Manager")


def test_the_list_search(acme):
    html = acme.client("Clerk").get("/seasons/?q=2027").content.decode()

    assert "Season 2027" in html and "Season 2028" not in html


def test_list_query_count_does_not_grow_with_rows(acme):
    client = acme.client("Manager")
    client.get("/seasons/")
    few = queries_for(client, "/seasons/?q=203")  # 2030 only
    many = queries_for(client, "/seasons/")  # every season
    assert many == few


def test_manager_adds_a_season(acme):
    client = acme.client("Manager")
    form = client.get("/seasons/new/")
    # The form suggests the season after the last one.
    assert form.status_code == 200
    assert 'value="2031"' in form.content.decode() and 'value="2031-01-01"' in form.content.decode()

    response = client.post("/seasons/new/", NEW, follow=True)

    assert "Season 2031 added." in response.content.decode()
    with acme:
        season = Season.objects.get(code="2031")
    assert (season.start_date, season.end_date) == (dt.date(2031, 1, 1), dt.date(2031, 12, 31))


def test_manager_edits_a_season_and_the_code_stays(acme):
    with acme:
        season = Season.objects.get(code="2030")
    response = acme.client("Manager").post(f"/seasons/{season.pk}/edit/", {
        "code": "9999", "name": "Twenty-thirty", "start_date": "2030-01-01", "end_date": "2031-01-31",
    }, follow=True)

    assert "Season 2030 saved." in response.content.decode()
    with acme:
        season.refresh_from_db()
    assert (season.code, season.name, season.end_date) == ("2030", "Twenty-thirty", dt.date(2031, 1, 31))


def test_an_overlap_is_a_message_beside_the_dates_and_nothing_is_saved(acme):
    response = acme.client("Manager").post("/seasons/new/", {**NEW, "code": "MID", "start_date": "2029-06-01",
                                                             "end_date": "2029-06-30"})

    assert response.status_code == 200
    assert response.context["form"].errors["start_date"] == [
        "These dates overlap season 2029 (01 Jan 2029 to 31 Dec 2029)."
    ]
    with acme:
        assert not Season.objects.filter(code="MID").exists()


def test_narrowing_a_season_that_holds_batches_is_refused_on_the_page(acme):
    with acme:
        batch = BatchFactory()
        season = batch.season
        start, end = season.start_date, season.end_date
    today = company_today()

    response = acme.client("Manager").post(f"/seasons/{season.pk}/edit/", {
        "name": season.name, "start_date": (today + dt.timedelta(days=1)).isoformat(), "end_date": end.isoformat(),
    })

    assert response.status_code == 200
    assert "received on days the new dates leave out" in response.content.decode()
    with acme:
        season.refresh_from_db()
    assert (season.start_date, season.end_date) == (start, end)


def test_bad_input_is_a_form_error(acme):
    response = acme.client("Manager").post("/seasons/new/", {**NEW, "code": "bad code!", "end_date": "2030-12-31"})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "code" in errors
    with acme:
        assert not Season.objects.filter(name="Season 2031").exists()


@pytest.mark.parametrize("role", ["Clerk", "Finance"])
def test_clerks_and_finance_may_not_add_or_edit(acme, role):
    with acme:
        season = Season.objects.get(code="2030")
    client = acme.client(role)

    assert client.get("/seasons/new/").status_code == 403
    assert client.post("/seasons/new/", NEW).status_code == 403
    assert client.get(f"/seasons/{season.pk}/edit/").status_code == 403
    assert client.post(f"/seasons/{season.pk}/edit/", {**NEW, "name": "Sneaky"}).status_code == 403
    with acme:
        assert not Season.objects.filter(code="2031").exists()
        assert Season.objects.get(pk=season.pk).name == "Season 2030"


def test_anonymous_is_sent_to_login(acme):
    client = acme.client()

    for url in ("/seasons/", "/seasons/new/"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    assert client.post("/seasons/new/", NEW).status_code == 302
    with acme:
        assert not Season.objects.filter(code="2031").exists()


def test_the_other_companys_season_is_not_found(acme, globex):
    with globex:
        secret = services.create_season(code="GX-SECRET", name="Globex secret", start_date=dt.date(2045, 1, 1),
                                        end_date=dt.date(2045, 12, 31))
    with acme:
        Season.objects.filter(pk=secret.pk).delete()  # ids are per schema: make sure this one names nothing here
    client = acme.client("Manager")

    assert client.get(f"/seasons/{secret.pk}/edit/").status_code == 404
    assert client.post(f"/seasons/{secret.pk}/edit/", {**NEW, "name": "Hijacked"}).status_code == 404
    with globex:
        assert Season.objects.get(pk=secret.pk).name == "Globex secret"
    assert "Globex secret" not in client.get("/seasons/").content.decode()
    # globex's manager is a stranger on acme's host.
    assert globex.client("Manager").get("/seasons/", HTTP_HOST=acme.host).status_code == 302


def test_nav_links_to_seasons(acme):
    assert 'href="/seasons/"' in acme.client("Clerk").get("/").content.decode()
