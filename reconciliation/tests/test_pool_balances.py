"""The grower statement's balance on each closed pool (issue #18): settlement's final for the grower, with the
remittance advices of the pool linked; 0,00 after a posted run for every grower not held."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.tenancy import company_today
from growers.models import Grower
from payments import services as payment_services
from payments.models import RemittanceAdvice
from payments.tests.runs_helpers import approved_run, closed_pool
from pools import services as pool_services
from pools.settlement import settle
from pools.tests.test_settlement import worked  # noqa: F401 (the fixture)
from reconciliation.report import pool_balances

pytestmark = pytest.mark.django_db
D = Decimal


def period():
    today = company_today()
    return today - dt.timedelta(days=30), today


def balances(code):
    return {b.pool_code: (b.settlement.gross, b.settlement.charges_total, b.settlement.already_paid, b.balance)
            for b in pool_balances(Grower.objects.get(code=code), *period())}


def statement_url(grower):
    date_from, date_to = period()
    return f"/reconciliation/growers/{grower.pk}/statement/?from={date_from}&to={date_to}"


def test_the_hand_worked_pool_balance_is_settlements_final(acme, worked):  # noqa: F811
    with acme:
        pool_services.close_pool(worked)
        found = {code: balances(code) for code in ("GA001", "GB002", "GC003")}
        finals = {s.grower_code: s.final for s in settle(worked)}

    # pools/tests/test_settlement.py works these out: gross − charges (all five bases) − already paid, where
    # GB002's 50.00 deduction is a charge withheld, not paid, and GC003's advance is against no pool.
    assert found == {
        "GA001": {"P-APPLE": (D("3240.27"), D("631.85"), D("1000.00"), D("1608.42"))},
        "GB002": {"P-APPLE": (D("7363.84"), D("1465.62"), D("2000.00"), D("3898.22"))},
        "GC003": {"P-APPLE": (D("1395.88"), D("425.77"), D("0.00"), D("970.11"))},
    }
    assert {code: pools["P-APPLE"][3] for code, pools in found.items()} == finals


def test_an_open_pool_has_no_balance_yet(acme, worked):  # noqa: F811
    with acme:
        assert balances("GA001") == {}


def test_after_a_posted_run_every_grower_not_held_reads_zero_and_links_the_advice(acme):
    with acme:
        pool = closed_pool()
        run = approved_run(pool, acme.user("Finance"), acme.user("Manager"))
        payment_services.post_run(run, by=acme.user("Finance"))
        found = {code: balances(code) for code in ("GA001", "GB002")}
        grower = Grower.objects.get(code="GA001")
        advice = RemittanceAdvice.objects.get(grower=grower)

    # runs_helpers: GA001's final 465.00 is posted; GB002's −435.00 is carried forward as an adjustment.
    assert found == {
        "GA001": {"P-RUN": (D("700.00"), D("135.00"), D("565.00"), D("0.00"))},
        "GB002": {"P-RUN": (D("700.00"), D("135.00"), D("565.00"), D("0.00"))},
    }
    html = acme.client("Finance").get(statement_url(grower)).content.decode()
    assert 'data-testid="pool-balances"' in html
    assert 'data-testid="pool-balance">0,00<' in html
    assert f'href="/payments/remittances/{advice.pk}/">{advice.display_number}</a>' in html
    assert "700,00" in html and "565,00" in html


def test_a_held_grower_keeps_the_negative_balance_and_has_no_advice(acme):
    with acme:
        pool = closed_pool()
        run = approved_run(pool, acme.user("Finance"), acme.user("Manager"), decision="hold")
        payment_services.post_run(run, by=acme.user("Finance"))
        held = Grower.objects.get(code="GB002")

    html = acme.client("Finance").get(statement_url(held)).content.decode()
    with acme:
        assert balances("GB002") == {"P-RUN": (D("700.00"), D("135.00"), D("1000.00"), D("-435.00"))}
        assert balances("GA001")["P-RUN"][3] == D("0.00")
    assert 'data-testid="pool-balance">-435,00 over-paid<' in html
    assert 'data-testid="pool-balance-P-RUN"' in html and "none</td>" in html


def test_a_clerk_reads_no_statement_and_the_advice_links_need_their_permission(acme):
    with acme:
        pool = closed_pool()
        run = approved_run(pool, acme.user("Finance"), acme.user("Manager"))
        payment_services.post_run(run, by=acme.user("Finance"))
        grower = Grower.objects.get(code="GA001")

    assert acme.client("Clerk").get(statement_url(grower)).status_code == 403
    assert acme.client("Manager").get(statement_url(grower)).status_code == 200


def _statement_queries(acme, grower):
    client = acme.client("Finance")
    client.get(statement_url(grower))  # warm the session and the company's caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(statement_url(grower)).status_code == 200
    return len(queries)


def test_the_statement_queries_do_not_grow_with_the_pools_and_advices(acme):
    with acme:
        pool = closed_pool(code="P-ONE", variety="Gala")
        run = approved_run(pool, acme.user("Finance"), acme.user("Manager"))
        payment_services.post_run(run, by=acme.user("Finance"))
        grower = Grower.objects.get(code="GA001")
    one = _statement_queries(acme, grower)
    with acme:
        assert len(balances("GA001")) == 1
        for variety, code in (("Fuji", "P-TWO"), ("Pink Lady", "P-THREE")):
            pool = closed_pool(code=code, variety=variety, growers=("GA001", f"GX{code[-3:]}"))
            run = approved_run(pool, acme.user("Finance"), acme.user("Manager"))
            payment_services.post_run(run, by=acme.user("Finance"))
        assert len(balances("GA001")) == 3
        assert RemittanceAdvice.objects.filter(grower=grower).count() == 3
    three = _statement_queries(acme, grower)

    assert three == one
