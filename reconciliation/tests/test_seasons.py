"""Seasons in reconciliation (issue 16): the report, statements, the dashboard and daily intake default to the
current season; `season=` picks one; the dashboard warns managers before the last season ends and lists the
batches received without spray clearance."""

import datetime as dt

import pytest

from batches.tests.factories import BatchFactory
from core.tenancy import company_day_start, company_today
from growers import services as grower_services
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from reconciliation.services import refresh_intake_view
from seasons import services as season_services
from seasons.tests.helpers import no_seasons, only_season_ending_in

from .helpers import intake, pay

pytestmark = pytest.mark.django_db


def seasons_now():
    """(the current season, the one before it): calendar years in the fixtures."""
    current = season_services.current_season()
    return current, season_services.season_for(current.start_date - dt.timedelta(days=1))


# --- the dashboard -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "warned"), [(14, True), (15, False), (0, True)])
def test_managers_are_warned_14_days_before_the_last_season_ends_and_not_15(acme, days, warned):
    with acme:
        season = only_season_ending_in(days)

    html = acme.client("Manager").get("/").content.decode()

    assert ('data-testid="season-warning"' in html) == warned
    if warned:
        assert f"Season {season.code}, the last one, ends on" in html
        assert 'href="/seasons/new/"' in html


def test_managers_are_warned_when_the_last_season_has_ended(acme):
    with acme:
        only_season_ending_in(-1)

    html = acme.client("Manager").get("/").content.decode()

    assert 'data-testid="season-warning"' in html
    assert "ended on" in html and "no season follows it" in html


def test_managers_are_warned_when_there_is_no_season_at_all(acme):
    with acme:
        no_seasons()

    html = acme.client("Manager").get("/").content.decode()

    assert "There is no season yet" in html
    assert "no season yet: the last 365 days" in html


@pytest.mark.parametrize("role", ["Clerk", "Finance"])
def test_only_managers_get_the_warning(acme, role):
    with acme:
        only_season_ending_in(3)

    assert 'data-testid="season-warning"' not in acme.client(role).get("/").content.decode()


def test_no_warning_while_a_next_season_is_there(acme):
    assert 'data-testid="season-warning"' not in acme.client("Manager").get("/").content.decode()


def test_a_batch_received_without_clearance_is_listed_on_the_dashboard(acme):
    with acme:
        current, previous = seasons_now()
        grower = GrowerFactory(code="GUNC")
        uncleared = BatchFactory(grower=grower)
        cleared_grower = GrowerFactory(code="GCLR")
        cleared = BatchFactory(grower=cleared_grower, variety="Fuji")
        # A clearance recorded before the next intake from the same block: that one is cleared.
        grower_services.record_clearance(block=cleared.block, season=current, cleared_on=company_today(),
                                         lab_reference="LAB-1")
        cleared_again = BatchFactory(grower=cleared_grower, block=cleared.block)
        last_season = intake(GrowerFactory(code="GOLD"), PackhouseFactory(),
                             company_day_start(previous.end_date) + dt.timedelta(hours=10))
        assert uncleared.without_clearance and not cleared_again.without_clearance and last_season.without_clearance

    html = acme.client("Clerk").get("/").content.decode()

    section = html[html.index('data-testid="uncleared"'):]
    section = section[:section.index("</section>")]
    assert f'href="/batches/{uncleared.pk}/"' in section
    assert cleared_again.batch_code not in section
    assert last_season.batch_code not in section  # another season's
    # Newest first.
    assert section.index(cleared.batch_code) < section.index(uncleared.batch_code)


def test_the_uncleared_list_reads_the_partial_index(acme):
    """ix_batches_without_clearance holds only flagged rows; the season's bounds are its Index Cond."""
    from django.db import connection

    from batches.models import Batch

    with acme:
        current, _ = seasons_now()
        start, end = season_services.season_moments(current)
        query = Batch.objects.filter(without_clearance=True, intake_date__gte=start, intake_date__lt=end)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, params = query.order_by("-intake_date").values("id")[:10].query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())

    assert "ix_batches_without_clearance" in plan


# --- the report and the statements ---------------------------------------------------------------------------


def test_the_report_defaults_to_the_current_season(acme):
    with acme:
        current, _ = seasons_now()

    body = acme.api_client("Finance").get("/api/reconciliation/").json()

    assert body["parameters"]["date_from"] == current.start_date.isoformat()
    assert body["parameters"]["date_to"] == current.end_date.isoformat()
    assert (body["parameters"]["period_source"], body["parameters"]["season"]) == ("current_season", current.code)


def test_a_season_by_code_or_id_sets_the_period(acme):
    with acme:
        _, previous = seasons_now()
    api = acme.api_client("Finance")

    for value in (previous.code, previous.pk):
        params = api.get(f"/api/reconciliation/?season={value}").json()["parameters"]
        assert (params["date_from"], params["date_to"], params["period_source"], params["season"]) == (
            previous.start_date.isoformat(), previous.end_date.isoformat(), "season", previous.code,
        )


def test_explicit_dates_still_work_and_are_given(acme):
    params = acme.api_client("Finance").get("/api/reconciliation/?from=2026-03-01&to=2026-03-31").json()["parameters"]

    assert (params["date_from"], params["date_to"], params["period_source"], params["season"]) == (
        "2026-03-01", "2026-03-31", "given", None,
    )


@pytest.mark.parametrize("query", ["season=2026&from=2026-01-01", "season=2026&to=2026-03-31",
                                   "season=2026&from=2026-01-01&to=2026-02-01"])
def test_a_season_together_with_from_or_to_is_a_400(acme, query):
    response = acme.api_client("Finance").get(f"/api/reconciliation/?{query}")

    assert response.status_code == 400
    assert response.json()["errors"]["season"] == ["Give a season or a period (from, to), not both."]


def test_an_unknown_season_is_a_400(acme):
    response = acme.api_client("Finance").get("/api/reconciliation/?season=NOPE")

    assert response.status_code == 400
    assert "No season has the code or id 'NOPE'." in response.json()["errors"]["season"][0]


def test_without_a_season_the_report_falls_back_to_the_rolling_year_and_says_so(acme):
    with acme:
        no_seasons()
        today = company_today()

    params = acme.api_client("Finance").get("/api/reconciliation/").json()["parameters"]
    page = acme.client("Manager").get("/reconciliation/").content.decode()

    assert (params["date_from"], params["date_to"], params["period_source"], params["season"]) == (
        (today - dt.timedelta(days=364)).isoformat(), today.isoformat(), "rolling", None,
    )
    assert "no season yet, so this is the 365 days up to today" in page
    assert 'href="/seasons/new/"' in page


def test_the_page_and_its_csv_default_to_the_current_season(acme):
    with acme:
        current, previous = seasons_now()
        grower = GrowerFactory(code="GNOW")
        BatchFactory(grower=grower)
        old = GrowerFactory(code="GOLD")
        intake(old, PackhouseFactory(), company_day_start(previous.end_date) + dt.timedelta(hours=10))
    client = acme.client("Finance")

    page = client.get("/reconciliation/")
    csv = b"".join(client.get("/reconciliation/?format=csv").streaming_content).decode()
    old_season = client.get(f"/reconciliation/?season={previous.code}").content.decode()

    html = page.content.decode()
    assert page.status_code == 200
    assert f"Season {current.code}" in html and "the current season" in html
    assert "GNOW" in html and "GOLD" not in html
    assert "GNOW" in csv and "GOLD" not in csv
    assert "GOLD" in old_season and "GNOW" not in old_season
    assert f'<option value="{previous.code}"' in html  # the season select


def test_the_statement_defaults_to_the_current_season_and_takes_a_season(acme):
    with acme:
        current, previous = seasons_now()
        grower = GrowerFactory(code="GST")
        pay(grower, "advance", "100", previous.end_date)
        pay(grower, "advance", "250", current.start_date)
    client = acme.client("Finance")
    url = f"/reconciliation/growers/{grower.pk}/statement/"

    default = client.get(url)
    chosen = client.get(f"{url}?season={previous.code}")
    both = client.get(f"{url}?season={previous.code}&from=2020-01-01")

    assert default.context["statement"].date_from == current.start_date
    assert default.context["statement"].period_paid == 250
    assert "the current season" in default.content.decode()
    assert chosen.context["statement"].date_to == previous.end_date
    assert chosen.context["statement"].period_paid == 100
    assert both.status_code == 400 and "not both" in both.content.decode()


def test_the_grower_page_balance_is_the_current_seasons(acme):
    with acme:
        current, _ = seasons_now()
        grower = GrowerFactory(code="GBAL")

    html = acme.client("Finance").get(f"/growers/{grower.pk}/").content.decode()

    assert f"for season {current.code}" in html


def test_the_dashboard_reconciles_the_current_season(acme):
    with acme:
        current, _ = seasons_now()

    html = acme.client("Manager").get("/").content.decode()

    assert f"season {current.code}, {current.start_date:%-d %b %Y}" in html


# --- daily intake -------------------------------------------------------------------------------------------


def test_daily_intake_defaults_to_the_current_season(acme, django_capture_on_commit_callbacks):
    with acme, django_capture_on_commit_callbacks(execute=True):
        current, previous = seasons_now()
        grower = GrowerFactory()
        packhouse = PackhouseFactory()
        old_day = previous.end_date
        intake(grower, packhouse, company_day_start(old_day) + dt.timedelta(hours=10))
        BatchFactory(grower=grower, packhouse=packhouse)
        refresh_intake_view()
    api = acme.api_client("Clerk")

    default = [row["day"] for row in api.get("/api/intake/daily/").json()["items"]]
    explicit = [row["day"] for row in api.get(
        f"/api/intake/daily/?day_after={old_day}&day_before={company_today()}").json()["items"]]
    by_season = [row["day"] for row in api.get(f"/api/intake/daily/?season={previous.code}").json()["items"]]

    assert default == [company_today().isoformat()]
    assert explicit == [company_today().isoformat(), old_day.isoformat()]
    assert by_season == [old_day.isoformat()]

