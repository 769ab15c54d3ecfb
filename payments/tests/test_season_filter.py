"""`season=` on the payment list: payments paid on the season's days."""

import datetime as dt

import pytest

from growers.tests.factories import GrowerFactory
from reconciliation.tests.helpers import pay
from seasons import services as season_services

pytestmark = pytest.mark.django_db


def test_the_season_filter_returns_the_payments_paid_in_it(acme):
    with acme:
        current = season_services.current_season()
        previous = season_services.season_for(current.start_date - dt.timedelta(days=1))
        grower = GrowerFactory()
        last_day = pay(grower, "advance", "100", previous.end_date)
        first_day = pay(grower, "advance", "200", current.start_date)
    api = acme.api_client("Finance")

    assert [p["reference"] for p in api.get(f"/api/payments/?season={previous.code}").json()["items"]] == [
        last_day.reference]
    assert [p["reference"] for p in api.get(f"/api/payments/?season={current.pk}").json()["items"]] == [
        first_day.reference]
    assert api.get("/api/payments/?season=NOPE").status_code == 400

    html = acme.client("Finance").get(f"/payments/?season={previous.code}").content.decode()
    assert '<select name="season"' in html
    assert last_day.reference in html and first_day.reference not in html
