"""The dashboard's chart, kg today by packhouse and open batches by age, each number a link (#13, item 7)."""

import html as html_module
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches import services as batch_services
from batches.tests.factories import BatchFactory
from core.tenancy import company_day_start, company_today
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from reconciliation import dashboard
from reconciliation.services import refresh_intake_view

pytestmark = pytest.mark.django_db


def days_of(*values):
    first = company_today() - timedelta(days=len(values) - 1)
    return [{"day": first + timedelta(days=n), "net_kg": Decimal(value)} for n, value in enumerate(values)]


def links_in(html):
    return [(html_module.unescape(href), text)
            for href, text in re.findall(r'<a href="(/batches/\?[^"]*)"[^>]*>\s*([^<]+?)\s*</a>', html)]


def codes_in(html):
    return sorted(re.findall(r">([A-Z0-9]+-\d{8}-\d{4})</a>", html))


# --- The chart's scale ------------------------------------------------------------


def test_one_wild_day_is_off_the_scale_and_the_others_keep_their_height():
    days = days_of(*([12000, 15000, 9000, 0, 14000] * 6)[:29], 99_999_999)

    chart = dashboard._bars(days)

    wild = chart["bars"][-1]
    assert wild["outlier"] and [bar["day"] for bar in chart["outliers"]] == [wild["day"]]
    assert wild["h"] == chart["height"]  # capped at the top of the axis, not drawn 6,000 times too tall
    assert chart["axis_top"] < 20000  # the axis fits the ordinary days
    tallest = max(bar["h"] for bar in chart["bars"] if not bar["outlier"])
    assert tallest > chart["height"] * 0.7
    assert chart["peak"] == Decimal(99_999_999)


def test_ordinary_variation_has_no_outlier():
    chart = dashboard._bars(days_of(*([5000, 20000, 12000, 0, 30000] * 6)))

    assert chart["outliers"] == []
    assert chart["axis_top"] >= 30000
    assert max(bar["h"] for bar in chart["bars"]) <= chart["height"]


def test_the_axis_has_round_ticks_from_zero_to_its_top():
    chart = dashboard._bars(days_of(*([0] * 29), 173_000))

    values = [tick["value"] for tick in chart["ticks"]]
    assert values[0] == 0 and values[-1] == chart["axis_top"] >= 173_000
    steps = {b - a for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1 and 3 <= len(values) - 1 <= 8
    assert [tick["y"] for tick in chart["ticks"]] == sorted((tick["y"] for tick in chart["ticks"]), reverse=True)


def test_an_empty_month_draws_no_bars_and_no_outlier():
    chart = dashboard._bars(days_of(*([0] * 30)))

    assert chart["outliers"] == [] and all(bar["h"] == 0 for bar in chart["bars"])


def test_day_labels_are_a_week_apart_and_the_last_is_today():
    chart = dashboard._bars(days_of(*([1000] * 30)))

    labelled = [n for n, bar in enumerate(chart["bars"]) if bar["label"]]
    assert labelled[-1] == 29
    assert all(b - a == 7 for a, b in zip(labelled, labelled[1:], strict=False))


# --- The page ---------------------------------------------------------------------


@pytest.fixture
def two_packhouses_today(acme, django_capture_on_commit_callbacks):
    with acme, django_capture_on_commit_callbacks(execute=True):
        north, south = PackhouseFactory(code="NORTH"), PackhouseFactory(code="SOUTH")
        grower = GrowerFactory(code="G0700")
        batches = [BatchFactory(grower=grower, packhouse=north, gross_weight_kg=Decimal("1500")),
                   BatchFactory(grower=grower, packhouse=north, gross_weight_kg=Decimal("2500")),
                   BatchFactory(grower=grower, packhouse=south, gross_weight_kg=Decimal("4500"))]
        refresh_intake_view()
    return {"north": north, "south": south, "batches": batches}


def test_kg_today_by_packhouse_each_linked_to_its_list(acme, two_packhouses_today):
    north, south = two_packhouses_today["north"], two_packhouses_today["south"]
    client = acme.client("Manager")
    today = company_today().isoformat()

    html = client.get("/").content.decode()

    table = html.split('data-testid="today-by-packhouse"', 1)[1].split("</table>", 1)[0]
    assert "NORTH" in table and "SOUTH" in table
    north_link = f"/batches/?packhouse={north.pk}&intake_date_after={today}&intake_date_before={today}"
    assert (north_link, "2") in links_in(table) and (north_link, "3\u00a0000,00") in links_in(table)
    listed = client.get(north_link).content.decode()
    assert codes_in(listed) == sorted(b.batch_code for b in two_packhouses_today["batches"][:2])
    south_link = f"/batches/?packhouse={south.pk}&intake_date_after={today}&intake_date_before={today}"
    assert (south_link, "4\u00a0000,00") in links_in(table)


def test_every_status_count_links_to_its_list(acme, two_packhouses_today):
    with acme:
        batch_services.transition(two_packhouses_today["batches"][0], "grading")

    html = acme.client("Manager").get("/").content.decode()

    statuses = html.split('data-testid="statuses"', 1)[1].split("</section>", 1)[0]
    assert ("/batches/?status=received", "2") in links_in(statuses)
    assert ("/batches/?status=grading", "1") in links_in(statuses)
    assert ("/batches/?status=dispatched", "0") in links_in(statuses)


def test_todays_totals_link_to_todays_batches(acme, two_packhouses_today):
    today = company_today().isoformat()

    html = acme.client("Clerk").get("/").content.decode()

    link = f"/batches/?intake_date_after={today}&intake_date_before={today}"
    assert (link, "3") in links_in(html)
    assert codes_in(acme.client("Clerk").get(link).content.decode()) == sorted(
        b.batch_code for b in two_packhouses_today["batches"])


def test_open_batches_by_age_count_and_link_to_the_same_batches(acme, django_capture_on_commit_callbacks):
    today = company_today()
    with acme, django_capture_on_commit_callbacks(execute=True):
        grower, packhouse = GrowerFactory(code="G0701"), PackhouseFactory(code="AGES")

        def received(days_ago, hour=10):
            moment = company_day_start(today - timedelta(days=days_ago)) + timedelta(hours=hour)
            return BatchFactory(grower=grower, packhouse=packhouse, intake_date=moment,
                                harvest_date=today - timedelta(days=days_ago + 1))

        fresh, yesterday, three, five, old = received(0, 0), received(1, 23), received(3), received(5), received(12)
        done = batch_services.transition(received(5), "rejected", reason="Rot")
    html = acme.client("Manager").get("/").content.decode()

    ages = html.split('data-testid="open-by-age"', 1)[1].split("</section>", 1)[0]
    counts = [count for _, count in links_in(ages)]
    assert counts == ["2", "1", "1", "1"]
    expected = [[fresh, yesterday], [three], [five], [old]]
    for (href, _), batches in zip(links_in(ages), expected, strict=True):
        assert "status=received" in href and "status=packed" in href and "status=rejected" not in href
        listed = codes_in(acme.client("Manager").get(href).content.decode())
        assert listed == sorted(b.batch_code for b in batches), href
        assert done.batch_code not in listed


def test_a_wild_record_is_marked_on_the_page_with_its_real_value(acme, django_capture_on_commit_callbacks):
    today = company_today()
    with acme, django_capture_on_commit_callbacks(execute=True):
        grower, packhouse = GrowerFactory(code="G0702"), PackhouseFactory(code="WILD")
        for days_ago in range(1, 8):
            BatchFactory(grower=grower, packhouse=packhouse, gross_weight_kg=Decimal("10500"),
                         intake_date=company_day_start(today - timedelta(days=days_ago)) + timedelta(hours=9),
                         harvest_date=today - timedelta(days=days_ago + 1))
        BatchFactory(grower=grower, packhouse=packhouse, gross_weight_kg=Decimal("99999999"),
                     tare_weight_kg=Decimal("0"))
        refresh_intake_view()

    html = acme.client("Manager").get("/").content.decode()

    outliers = html.split('data-testid="chart-outliers"', 1)[1].split("</p>", 1)[0]
    assert "99\u00a0999\u00a0999,00 kg" in outliers  # en-ZA
    assert html.count('class="outlier"') == 1
    assert 'class="axis"' in html and "<text" in html


def test_the_dashboard_query_count_does_not_grow_with_packhouses(acme, django_capture_on_commit_callbacks):
    def build_queries():
        with acme, CaptureQueriesContext(connection) as queries:
            dashboard._build(company_today())
        return len(queries)

    with acme, django_capture_on_commit_callbacks(execute=True):
        grower = GrowerFactory(code="G0703")
        BatchFactory(grower=grower, packhouse=PackhouseFactory(code="ONE"))
        refresh_intake_view()
    one = build_queries()
    with acme, django_capture_on_commit_callbacks(execute=True):
        for code in ("TWO", "THREE", "FOUR"):
            BatchFactory(grower=grower, packhouse=PackhouseFactory(code=code))
        refresh_intake_view()
    with acme:
        assert len(dashboard._build(company_today())["today_by_packhouse"]) == 4

    assert build_queries() == one
