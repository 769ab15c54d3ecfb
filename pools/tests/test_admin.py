"""The company admin for pools writes through pools.services; income is never changed there."""

from decimal import Decimal

import pytest

from core.tenancy import company_today
from pools.models import ChargeRule, Pool, PoolHistory, PoolIncome
from seasons.services import current_season

from .helpers import make_pool, run_queued_closes

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_pool_income_and_a_charge_through_the_services(acme):
    client = acme.client("Manager")
    with acme:
        season = current_season()

    client.post("/admin/pools/pool/add/", {"season": season.pk, "code": "p-adm", "name": "Admin pool",
                                            "fruit_type": "pear", "variety": ""})
    with acme:
        pool = Pool.objects.get(code="P-ADM")  # upper-cased by the service
    client.post("/admin/pools/poolincome/add/", {"pool": pool.pk, "grade": "class1", "amount": "10,00",
                                                  "received_on": company_today().isoformat(), "reference": "MR-A",
                                                  "reason": ""})
    refused = client.post("/admin/pools/chargerule/add/", {"pool": pool.pk, "name": "Levy", "kind": "levy",
                                                           "basis": "percent_of_income", "rate": "150"})
    client.post("/admin/pools/chargerule/add/", {"pool": pool.pk, "name": "Levy", "kind": "levy",
                                                 "basis": "per_kg_received", "rate": "0.02"})

    assert refused.status_code == 200 and "at most 100" in refused.content.decode()
    with acme:
        assert PoolIncome.objects.get().amount == Decimal("10.00")
        assert ChargeRule.objects.get().rate == Decimal("0.02")
        assert set(PoolHistory.objects.values_list("event", flat=True)) == {"created", "income", "charge_added"}


def test_the_close_action_and_income_cannot_be_changed(acme):
    client = acme.client("Manager")
    with acme:
        pool = make_pool()

    client.post("/admin/pools/pool/", {"action": "close_selected", "_selected_action": [pool.pk]})

    with acme:
        assert Pool.objects.get(pk=pool.pk).status == "open"  # queued, like the page's Close
        [closing] = run_queued_closes()
        pool.refresh_from_db()
    assert (pool.status, closing.status) == ("closed", "done")
    assert client.get("/admin/pools/poolincome/add/").status_code == 200
    assert client.get("/admin/pools/pool/").status_code == 200
    assert acme.client("Clerk").get("/admin/pools/pool/").status_code in (302, 403)
