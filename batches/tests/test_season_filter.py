"""`season=` on the batch list: the season's local days as an intake_date range (ix_batches_intake_date)."""

import datetime as dt

import pytest
from django.db import connection

from batches.filters import BatchFilterSet
from batches.models import Batch
from core.tenancy import company_day_start
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from reconciliation.tests.helpers import intake
from seasons import services as season_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def around_new_year(acme):
    """Two batches on either side of the midnight between the previous season and the current one."""
    with acme:
        current = season_services.current_season()
        previous = season_services.season_for(current.start_date - dt.timedelta(days=1))
        grower, packhouse = GrowerFactory(), PackhouseFactory()
        last_night = intake(grower, packhouse, company_day_start(current.start_date) - dt.timedelta(minutes=30))
        this_morning = intake(grower, packhouse, company_day_start(current.start_date) + dt.timedelta(minutes=30))
    return current, previous, last_night, this_morning


def test_the_season_filter_returns_exactly_its_batches(acme, around_new_year):
    current, previous, last_night, this_morning = around_new_year
    api = acme.api_client("Clerk")

    for value in (previous.code, previous.pk):
        assert [b["batch_code"] for b in api.get(f"/api/batches/?season={value}").json()["items"]] == [
            last_night.batch_code]
    assert [b["batch_code"] for b in api.get(f"/api/batches/?season={current.code}").json()["items"]] == [
        this_morning.batch_code]
    # With other filters it narrows further.
    assert api.get(f"/api/batches/?season={current.code}&status=packed").json()["items"] == []


def test_an_unknown_season_is_a_400_and_a_form_error_on_the_page(acme):
    api = acme.api_client("Clerk").get("/api/batches/?season=NOPE")
    page = acme.client("Clerk").get("/batches/?season=NOPE")

    assert api.status_code == 400
    assert api.json()["errors"]["season"] == ["No season has the code or id 'NOPE'."]
    assert "No season has the code or id" in page.content.decode()


def test_the_batch_list_page_has_a_season_select(acme, around_new_year):
    current, previous, last_night, this_morning = around_new_year

    html = acme.client("Clerk").get(f"/batches/?season={previous.code}").content.decode()

    assert '<select name="season"' in html
    assert f'<option value="{previous.code}" selected>' in html
    assert last_night.batch_code in html and this_morning.batch_code not in html


def test_the_season_filter_is_an_index_range_on_intake_date(acme):
    with acme:
        season = season_services.current_season()
        filterset = BatchFilterSet({"season": season.code}, queryset=Batch.objects.all())
        assert filterset.is_valid()
        sql, params = filterset.qs.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())

    assert "Index Cond: ((intake_date >=" in plan
