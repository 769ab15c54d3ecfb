from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from pools import services
from pools.models import ChargeRule, Pool, PoolIncome

from .helpers import make_pool, packed, run_queued_closes

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def pool(acme):
    with acme:
        pool = make_pool()
        services.record_income(pool, grade="class1", amount=D("1000.00"), received_on=company_today(),
                               reference="MR-1")
        services.add_charge_rule(pool, name="Packing", kind="packing", basis="per_kg_packed", rate=D("0.10"))
        return pool


def add_growers(acme, n):
    with acme:
        packhouse = PackhouseFactory()
        for _ in range(n):
            packed(GrowerFactory(), packhouse, net=1000, class1=800, class2=100)


def test_the_pool_page_costs_the_same_queries_for_more_growers(acme, pool, committed):
    client = acme.client("Finance")
    client.get(f"/pools/{pool.pk}/")  # the session's first request loads more than the page
    # Each round adds batches (their bump makes the cached figures stale), so both views compute them.
    with committed():
        add_growers(acme, 1)
    with CaptureQueriesContext(connection) as one:
        first = client.get(f"/pools/{pool.pk}/")
    with committed():
        add_growers(acme, 4)
    with CaptureQueriesContext(connection) as five:
        second = client.get(f"/pools/{pool.pk}/")

    assert first.status_code == second.status_code == 200
    assert len(five) == len(one)
    html = second.content.decode()
    assert "MR-1" in html and "Packing" in html and "Close pool" in html
    assert html.count("800,00") >= 5  # each of the five growers' class 1 kg


def settlement_queries(queries):
    return [q["sql"] for q in queries if "pallet_lines" in q["sql"] or "grower_payments" in q["sql"]]


def test_the_pool_page_reads_its_figures_from_the_cache_until_a_write(acme, pool, committed):
    with committed():
        add_growers(acme, 2)
    client = acme.client("Finance")
    client.get(f"/pools/{pool.pk}/")
    with CaptureQueriesContext(connection) as settlement_page:
        client.get(f"/pools/{pool.pk}/settlement/")  # the page and the settlement share the figures
    with CaptureQueriesContext(connection) as warm:
        page = client.get(f"/pools/{pool.pk}/")

    assert settlement_queries(settlement_page) == [] and settlement_queries(warm) == []
    assert page.status_code == 200 and "1\xa0000,00" in page.content.decode()  # class 1 income

    with committed():
        client.post(f"/pools/{pool.pk}/income/", {"grade": "class1", "amount": "500.00", "reference": "MR-2",
                                                  "received_on": company_today().isoformat()})
    with CaptureQueriesContext(connection) as after_income:
        html = client.get(f"/pools/{pool.pk}/").content.decode()

    assert len(settlement_queries(after_income)) == 2  # recomputed: pallet shares, already paid
    assert "1\xa0500,00" in html and "MR-2" in html
    # 1,500.00 over 1,600 kg of class 1: 750.00 gross each, less packing 0.10 × 900 kg = 90.00.
    assert html.count("660,00") == 2


def test_a_payment_against_the_pool_changes_its_page(acme, pool, committed):
    with committed():
        add_growers(acme, 1)
    with acme:
        grower = GrowerFactory(code="G0088")
        packed(grower, PackhouseFactory(), net=1000, class1=800, class2=100)
    client = acme.client("Finance")
    before = client.get(f"/pools/{pool.pk}/").content.decode()
    assert "123,45" not in before

    with committed():
        response = acme.api_client("Finance").post("/api/payments/", {
            "grower": grower.pk, "payment_type": "advance", "amount": "123.45", "reference": "ADV-88",
            "paid_date": company_today().isoformat(), "pool": pool.pk}, format="json")
    after = client.get(f"/pools/{pool.pk}/").content.decode()

    assert response.status_code == 201
    # Paid 123,45; final 500.00 − 90.00 − 123.45 = 286.55.
    assert "123,45" in after and "286,55" in after


def test_the_settlement_preview_shows_each_growers_lines(acme, pool):
    add_growers(acme, 2)

    html = acme.client("Manager").get(f"/pools/{pool.pk}/settlement/").content.decode()

    # 1000.00 over 1600 kg of class 1: 500.00 each; packing 0.10 × 900 kg = 90.00; final 410.00.
    assert html.count("Gross, class1") == 2
    assert "410" in html and "Settlement preview" in html


def test_finance_creates_a_pool_records_income_adds_a_charge_and_closes(acme):
    client = acme.client("Finance")
    with acme:
        from seasons.services import current_season

        season = current_season()

    response = client.post("/pools/new/", {"season": season.pk, "code": "p-new", "name": "New", "fruit_type": "apple",
                                           "variety": ""})
    with acme:
        pool = Pool.objects.get(code="P-NEW")
    assert response.status_code == 302
    assert client.post(f"/pools/{pool.pk}/income/", {"grade": "class1", "amount": "12,50", "reference": "MR-9",
                                                     "received_on": company_today().isoformat()}).status_code == 302
    # A negative entry without a reason is a form error, not a 500.
    refused = client.post(f"/pools/{pool.pk}/income/", {"grade": "class1", "amount": "-1", "reference": "MR-9",
                                                        "received_on": company_today().isoformat()})
    assert refused.status_code == 200 and "says why" in refused.content.decode()
    percent = client.post(f"/pools/{pool.pk}/charges/", {"name": "Commission", "kind": "commission",
                                                          "basis": "percent_of_income", "rate": "101"})
    assert percent.status_code == 200 and "at most 100" in percent.content.decode()
    assert client.post(f"/pools/{pool.pk}/charges/", {"name": "Commission", "kind": "commission",
                                                      "basis": "percent_of_income", "rate": "7.5"}).status_code == 302
    queued = client.post(f"/pools/{pool.pk}/close/", follow=True).content.decode()
    assert "Closing pool P-NEW in the background" in queued and 'hx-trigger="every 2s"' in queued
    assert "already being closed" in client.post(f"/pools/{pool.pk}/close/", follow=True).content.decode()
    with acme:
        run_queued_closes()
    again = client.post(f"/pools/{pool.pk}/close/", follow=True)
    assert "already closed" in again.content.decode()
    with acme:
        pool.refresh_from_db()
        assert pool.status == "closed"
        assert PoolIncome.objects.get().amount == D("12.50")
        assert ChargeRule.objects.get().rate == D("7.5")


def test_the_api(acme, pool):
    api = acme.api_client("Finance")
    add_growers(acme, 1)

    listed = api.get("/api/pools/?status=open")
    income = api.post("/api/pool-income/", {"pool": pool.pk, "grade": "class2", "amount": "50.00",
                                            "received_on": company_today().isoformat(), "reference": "MR-2"},
                      format="json")
    bad_charge = api.post("/api/charge-rules/", {"pool": pool.pk, "name": "X", "kind": "levy",
                                                 "basis": "percent_of_income", "rate": "200"}, format="json")
    zero_charge = api.post("/api/charge-rules/", {"pool": pool.pk, "name": "X", "kind": "levy",
                                                  "basis": "per_carton", "rate": "0"}, format="json")
    settlement = api.get(f"/api/pools/{pool.pk}/settlement/")
    queued = api.post(f"/api/pools/{pool.pk}/close/")
    while_queued = api.post(f"/api/pools/{pool.pk}/close/")
    with acme:
        run_queued_closes()
    progress = api.get(queued.json()["progress_url"])
    twice = api.post(f"/api/pools/{pool.pk}/close/")

    assert listed.status_code == 200 and listed.json()["items"][0]["code"] == "P-APPLE"
    assert income.status_code == 201, income.json()
    assert bad_charge.status_code == 400 and "rate" in str(bad_charge.json())
    assert zero_charge.status_code == 400 and "rate" in str(zero_charge.json())
    [line] = settlement.json()
    assert (line["gross"], line["charges"][0]["amount"], line["final"]) == ("1050.00", "90.00", "960.00")
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    assert queued.json()["progress_url"] == f"/api/pools/{pool.pk}/closing/"
    assert while_queued.status_code == 409 and while_queued.json()["code"] == "already_closing"
    assert progress.status_code == 200
    followed = progress.json()
    assert (followed["status"], followed["batches"], followed["steps_done"]) == ("done", 1, followed["steps_total"])
    assert api.get(f"/api/pools/{pool.pk}/").json()["status"] == "closed"
    assert twice.status_code == 409 and twice.json()["code"] == "already_closed"


def test_an_advance_is_recorded_against_a_pool(acme, pool):
    with acme:
        grower = GrowerFactory(code="G0077")
    api = acme.api_client("Finance")

    response = api.post("/api/payments/", {"grower": grower.pk, "payment_type": "advance", "amount": "100.00",
                                           "reference": "ADV-77", "paid_date": company_today().isoformat(),
                                           "pool": pool.pk}, format="json")

    assert response.status_code == 201 and response.json()["pool"] == pool.pk
    html = acme.client("Finance").get("/payments/new/").content.decode()
    assert "P-APPLE" in html
