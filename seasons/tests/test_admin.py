"""The company admin for seasons writes through seasons.services."""

import pytest

from core.tests.helpers import form_errors
from seasons.models import Season

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/seasons/season/"
ADD = CHANGELIST + "add/"


def test_a_manager_adds_a_season_through_the_service(acme):
    client = acme.client("Manager")
    assert client.get(CHANGELIST).status_code == 200
    assert client.get(ADD).status_code == 200

    response = client.post(ADD, {"code": " 2031 ", "name": "Season 2031", "start_date": "2031-01-01",
                                 "end_date": "2031-12-31"})

    assert response.status_code == 302
    with acme:
        assert Season.objects.filter(code="2031").exists()


def test_an_overlap_is_an_error_beside_the_dates(acme):
    response = acme.client("Manager").post(ADD, {"code": "MID", "name": "Mid", "start_date": "2029-06-01",
                                                 "end_date": "2029-06-30"})

    assert form_errors(response)["start_date"] == ["These dates overlap season 2029 (01 Jan 2029 to 31 Dec 2029)."]
    with acme:
        assert not Season.objects.filter(code="MID").exists()


def test_the_code_is_read_only_and_seasons_are_not_deleted(acme):
    with acme:
        season = Season.objects.get(code="2030")
    client = acme.client("Manager")
    url = f"{CHANGELIST}{season.pk}/change/"

    assert 'name="code"' not in client.get(url).text
    changed = client.post(url, {"name": "Renamed", "start_date": "2030-01-01", "end_date": "2030-12-31"})
    assert changed.status_code == 302
    assert client.get(f"{CHANGELIST}{season.pk}/delete/").status_code == 403
    with acme:
        season.refresh_from_db()
    assert (season.code, season.name) == ("2030", "Renamed")


@pytest.mark.parametrize("role", [None, "Clerk", "Finance"])
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(acme, role):
    response = acme.client(role).get(CHANGELIST)

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
