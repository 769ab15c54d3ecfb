"""Pagination, filters, ordering and query budgets of the API lists."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches import services as batch_services
from batches.models import Batch
from batches.tests.factories import BatchFactory
from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from payments import services as payment_services
from payments.models import GrowerPayment

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(acme):
    return acme.api_client("Manager")


@pytest.fixture
def twelve_growers(acme):
    with acme:
        return [GrowerFactory(region="Ceres" if n % 2 else "Elgin", active=n != 3) for n in range(12)]


# --- pagination ------------------------------------------------------------------------


def test_default_envelope(api, twelve_growers):
    body = api.get("/api/growers/").json()

    assert set(body) == {"items", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (12, 50, 0, 12)


def test_limit_and_offset_walk_the_list_without_gaps_or_repeats(api, twelve_growers):
    seen = []
    for offset in range(0, 12, 5):
        body = api.get(f"/api/growers/?limit=5&offset={offset}&ordering=region").json()
        seen += [item["id"] for item in body["items"]]

    assert sorted(seen) == sorted(g.pk for g in twelve_growers)
    assert len(seen) == len(set(seen))


def test_limit_over_500_is_clamped(api, twelve_growers):
    body = api.get("/api/growers/?limit=501").json()

    assert body["limit"] == 500
    assert len(body["items"]) == 12


def test_offset_past_the_end_is_an_empty_page(api, twelve_growers):
    body = api.get("/api/growers/?offset=100").json()

    assert (body["items"], body["total"], body["offset"]) == ([], 12, 100)


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"), ("limit=1.5", "limit"),
     ("offset=-1", "offset"), ("offset=abc", "offset")],
)
def test_malformed_limit_or_offset_is_400_saying_why(api, query, field):
    response = api.get(f"/api/batches/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"] and "whole number" in body["errors"][field][0]


# --- filters and ordering -------------------------------------------------------------


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_grower_filters(api, twelve_growers):
    active = ids(api.get("/api/growers/?active=false"))
    elgin = ids(api.get("/api/growers/?region=elgin&limit=500"))
    found = ids(api.get(f"/api/growers/?q={twelve_growers[4].name}"))

    assert active == [twelve_growers[3].pk]
    assert sorted(elgin) == sorted(g.pk for n, g in enumerate(twelve_growers) if n % 2 == 0)
    assert found == [twelve_growers[4].pk]


def test_grower_ordering(api, twelve_growers):
    codes = [item["code"] for item in api.get("/api/growers/?ordering=-code").json()["items"]]

    assert codes == sorted(codes, reverse=True)


@pytest.fixture
def batches(acme):
    """Six batches across two growers, two packhouses, fruit, statuses and dates."""
    with acme:
        ph1, ph2 = PackhouseFactory(code="PHX"), PackhouseFactory(code="PHY")
        g1, g2 = GrowerFactory(), GrowerFactory()
        today = company_today()
        made = [
            BatchFactory(grower=g1, packhouse=ph1, fruit_type="apple", variety="Gala",
                         harvest_date=today - dt.timedelta(days=10)),
            BatchFactory(grower=g1, packhouse=ph2, fruit_type="pear", variety="Forelle",
                         harvest_date=today - dt.timedelta(days=5)),
            BatchFactory(grower=g2, packhouse=ph1, fruit_type="apple", variety="Fuji",
                         harvest_date=today - dt.timedelta(days=1), gross_weight_kg=Decimal("9000")),
            BatchFactory(grower=g2, packhouse=ph2, fruit_type="citrus", variety="Navel", harvest_date=today),
        ]
        made[0] = batch_services.transition(made[0], "grading")
        made[1] = batch_services.transition(made[1], "rejected", reason="Hail")
        # Two deliveries weighed last week (intake_date in the past).
        last_week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        made += [
            BatchFactory(grower=g1, packhouse=ph1, harvest_date=today - dt.timedelta(days=8), intake_date=last_week),
            BatchFactory(grower=g1, packhouse=ph1, harvest_date=today - dt.timedelta(days=8), intake_date=last_week),
        ]
    return made


def test_batch_filters(api, batches):
    b = batches
    today = company_today()

    assert sorted(ids(api.get(f"/api/batches/?grower={b[0].grower_id}"))) == sorted(
        [b[0].pk, b[1].pk, b[4].pk, b[5].pk]
    )
    assert sorted(ids(api.get(f"/api/batches/?packhouse={b[1].packhouse_id}"))) == sorted([b[1].pk, b[3].pk])
    assert ids(api.get("/api/batches/?status=rejected")) == [b[1].pk]
    assert sorted(ids(api.get("/api/batches/?status=grading&status=rejected"))) == sorted([b[0].pk, b[1].pk])
    assert ids(api.get("/api/batches/?fruit_type=citrus")) == [b[3].pk]
    assert ids(api.get("/api/batches/?variety=fuji")) == [b[2].pk]
    assert sorted(ids(api.get(f"/api/batches/?harvest_date_after={today - dt.timedelta(days=1)}"))) == sorted(
        [b[2].pk, b[3].pk]
    )
    assert sorted(ids(api.get(f"/api/batches/?harvest_date_before={today - dt.timedelta(days=8)}"))) == sorted(
        [b[0].pk, b[4].pk, b[5].pk]
    )
    last_week = today - dt.timedelta(days=7)
    assert sorted(ids(api.get(f"/api/batches/?intake_date_before={last_week}"))) == sorted([b[4].pk, b[5].pk])
    assert len(ids(api.get(f"/api/batches/?intake_date_after={today}"))) == 4
    assert ids(api.get(f"/api/batches/?q={b[3].batch_code.lower()}")) == [b[3].pk]
    assert len(ids(api.get("/api/batches/?q=PHX-"))) == 4


def test_batch_ordering(api, batches):
    nets = [Decimal(item["net_weight_kg"]) for item in api.get("/api/batches/?ordering=-net_weight_kg").json()["items"]]

    assert nets[0] == Decimal("8500.00")
    assert nets == sorted(nets, reverse=True)


@pytest.mark.parametrize(
    "query",
    ["status=eaten", "fruit_type=banana", "grower=abc", "harvest_date_after=yesterday", "ordering=password",
     "intake_date_before=2026-13-45"],
)
def test_bad_filters_are_400_naming_the_filter(api, query):
    response = api.get(f"/api/batches/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0].removesuffix("_after").removesuffix("_before") in str(response.json()["errors"])


def test_payment_filters(acme, api):
    with acme:
        g1, g2 = GrowerFactory(), GrowerFactory()
        today = company_today()
        p1 = payment_services.record_payment(grower=g1, payment_type="advance", amount=Decimal("10"),
                                                reference="A-1", paid_date=today - dt.timedelta(days=40))
        p2 = payment_services.record_payment(grower=g1, payment_type="final", amount=Decimal("20"),
                                                reference="F-1", paid_date=today)
        p3 = payment_services.record_payment(grower=g2, payment_type="deduction", amount=Decimal("5"),
                                                reference="D-1", paid_date=today - dt.timedelta(days=3))

    assert sorted(ids(api.get(f"/api/payments/?grower={g1.pk}"))) == sorted([p1.pk, p2.pk])
    assert ids(api.get("/api/payments/?payment_type=deduction")) == [p3.pk]
    after = today - dt.timedelta(days=5)
    assert sorted(ids(api.get(f"/api/payments/?paid_date_after={after}"))) == sorted([p2.pk, p3.pk])
    assert ids(api.get(f"/api/payments/?paid_date_before={after}")) == [p1.pk]
    assert ids(api.get("/api/payments/?ordering=amount")) == [p3.pk, p1.pk, p2.pk]


def test_price_filters(acme, api):
    with acme:
        old = payment_services.create_price_agreement(
            fruit_type="apple", grade="class1", valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31),
            price_per_kg=Decimal("5"),
        )
        new = payment_services.create_price_agreement(
            fruit_type="apple", grade="class1", valid_from=dt.date(2026, 1, 1), price_per_kg=Decimal("6"),
        )
        pear = payment_services.create_price_agreement(
            fruit_type="pear", grade="ungraded", valid_from=dt.date(2026, 1, 1), price_per_kg=Decimal("3"),
        )

    assert ids(api.get("/api/prices/?valid_on=2025-06-01")) == [old.pk]
    assert sorted(ids(api.get("/api/prices/?valid_on=2026-06-01"))) == sorted([new.pk, pear.pk])
    assert ids(api.get("/api/prices/?grade=ungraded")) == [pear.pk]
    assert ids(api.get("/api/prices/?fruit_type=apple&ordering=-valid_from")) == [new.pk, old.pk]


# --- query budgets: a list's query count does not depend on its page size ---------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["items"])


@pytest.fixture
def many(acme):
    """510 batches and 510 payments, bulk-inserted: the query budget is under test here, not the services."""
    with acme:
        packhouse, grower = PackhouseFactory(), GrowerFactory()
        for _ in range(3):
            GrowerFactory()
        template = BatchFactory(grower=grower, packhouse=packhouse)
        Batch.objects.bulk_create(
            Batch(batch_code=f"BULK-{n:04d}", grower=grower, packhouse=packhouse, fruit_type="apple", variety="Gala",
                  harvest_date=template.harvest_date, bin_count=5, gross_weight_kg=Decimal("2000"),
                  tare_weight_kg=Decimal("250"))
            for n in range(509)
        )
        GrowerPayment.objects.bulk_create(
            GrowerPayment(grower=grower, payment_type="advance", amount=Decimal("1"), reference=f"R-{n}",
                          paid_date=company_today())
            for n in range(510)
        )
    return template


@pytest.mark.parametrize(
    "path", ["/api/batches/", "/api/payments/", "/api/growers/", "/api/packhouses/", "/api/prices/"],
)
def test_list_query_count_does_not_grow_with_page_size(acme, many, path):
    client = acme.api_client("Manager")
    client.get(f"{path}?limit=1")  # the same total for every page size: cached (batches) or not, alike below

    small, small_items = count_queries(client, f"{path}?limit=5")
    large, large_items = count_queries(client, f"{path}?limit=500")

    assert small == large
    if path in ("/api/batches/", "/api/payments/"):
        assert (small_items, large_items) == (5, 500)


def test_a_page_of_50_batches_is_two_queries(acme, many):
    client = acme.api_client("Manager")

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/batches/?limit=50")

    on_batches = [q["sql"] for q in queries if 'FROM "batches"' in q["sql"]]
    assert len(response.json()["items"]) == 50
    # COUNT, then the page with its growers and packhouses as columns: subqueries, not joins (PostgreSQL
    # planned the six-table join for longer than it ran it).
    assert len(on_batches) == 2
    assert 'FROM "growers"' in on_batches[1] and 'FROM "packhouses"' in on_batches[1]
    assert "JOIN" not in on_batches[1].split('FROM "batches"')[-1]


def test_the_total_of_a_big_list_is_counted_once_per_write(acme, many, django_capture_on_commit_callbacks):
    client = acme.api_client("Clerk")

    def batch_queries(url):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url).json()
        return [q["sql"] for q in queries if 'FROM "batches"' in q["sql"]], body["total"]

    first, total = batch_queries("/api/batches/?limit=50")
    again, total_again = batch_queries("/api/batches/?limit=50&offset=50")
    rejected, none_rejected = batch_queries("/api/batches/?status=rejected")
    with acme, django_capture_on_commit_callbacks(execute=True):
        batch_services.transition(many, "grading")  # a write: the generation moves at commit
        batch_services.transition(many, "rejected", reason="Bruised")
    after_write, total_after_write = batch_queries("/api/batches/?limit=50")
    rejected_after, one_rejected = batch_queries("/api/batches/?status=rejected")

    assert (total, total_again, none_rejected, total_after_write, one_rejected) == (510, 510, 0, 510, 1)
    assert len(first) == 2 and "COUNT(*)" in first[0]
    assert len(again) == 1 and "COUNT(*)" not in again[0]  # another page, the same filters: the cached total
    assert len(rejected) == 1 and "COUNT(*)" in rejected[0]  # other filters, another total (0: no page to read)
    assert len(after_write) == 2 and len(rejected_after) == 2  # counted again after the write


def test_history_query_count_does_not_grow(acme, many):
    client = acme.api_client("Clerk")
    with acme:
        batch = batch_services.transition(many, "grading")
        for n in range(30):
            batch = batch_services.edit(batch, {"notes": f"note {n}"})

    client.get(f"/api/batches/{batch.pk}/history/?limit=1")  # the total is cached for every page size alike
    small, _ = count_queries(client, f"/api/batches/{batch.pk}/history/?limit=2")
    large, items = count_queries(client, f"/api/batches/{batch.pk}/history/?limit=500")

    assert small == large
    assert items == 32


def test_date_filters_are_the_dates_themselves_east_of_utc(acme, api):
    """Regression: a date range filter compared the date columns with local midnight in UTC (a day early)."""
    with acme:
        day = dt.date(2026, 3, 10)
        payment = payment_services.record_payment(grower=GrowerFactory(), payment_type="advance",
                                                     amount=Decimal("1"), reference="D-DAY", paid_date=day)
        batch = BatchFactory(harvest_date=day)

    assert ids(api.get("/api/payments/?paid_date_after=2026-03-10&paid_date_before=2026-03-10")) == [payment.pk]
    assert ids(api.get("/api/payments/?paid_date_after=2026-03-11")) == []
    assert ids(api.get("/api/batches/?harvest_date_after=2026-03-10&harvest_date_before=2026-03-10")) == [batch.pk]
    assert ids(api.get("/api/batches/?harvest_date_before=2026-03-09")) == []
