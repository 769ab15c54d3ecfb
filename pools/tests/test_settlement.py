"""The arithmetic of DESIGN.md "Pools and settlement", worked by hand, and as a property."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from pallets import services as pallet_services
from payments import services as payment_services
from pools import services
from pools.settlement import settle

from .helpers import make_pool, packed

pytestmark = pytest.mark.django_db
D = Decimal


def pallet(packhouse, *lines):
    built = pallet_services.build_pallet(packhouse)
    for batch, grade, cartons, kg in lines:
        pallet_services.add_line(built, batch=batch, grade=grade, cartons=cartons, kg=D(kg))
    return built


@pytest.fixture
def worked(acme):
    """One pool, three growers, two grades (class 1 and 2), all five charge bases, advances."""
    with acme:
        acme.company.gs1_company_prefix = "6001234"
        acme.company.save(update_fields=["gs1_company_prefix"])
        packhouse = PackhouseFactory()
        a, b, c = (GrowerFactory(code=code) for code in ("GA001", "GB002", "GC003"))
        pool = make_pool()
        batch_a = packed(a, packhouse, net=1000, class1=600, class2=300)
        batch_b = packed(b, packhouse, net=2000, class1=1500, class2=400)
        batch_c = packed(c, packhouse, net=500, class1=200, class2=250)
        # P1 900 kg: A 300, B 600. P2 600 kg: B 400, C 200. P3 200 kg: C alone.
        pallet(packhouse, (batch_a, "class1", 30, 300), (batch_b, "class1", 60, 600))
        pallet(packhouse, (batch_b, "class2", 40, 400), (batch_c, "class2", 20, 200))
        pallet(packhouse, (batch_c, "class1", 20, 200))
        today = company_today()
        services.record_income(pool, grade="class1", amount=D("6000.00"), received_on=today, reference="MR-1")
        services.record_income(pool, grade="class1", amount=D("4000.00"), received_on=today, reference="MR-2")
        # A mistake and its reversal net to nothing.
        wrong = services.record_income(pool, grade="class2", amount=D("999.00"), received_on=today, reference="MR-X")
        services.reverse_income(wrong, reason="Booked to the wrong pool")
        services.record_income(pool, grade="class2", amount=D("2000.00"), received_on=today, reference="MR-3")
        for name, kind, basis, rate in (
            ("Packing", "packing", "per_kg_packed", "0.35"), ("Levy", "levy", "per_kg_received", "0.0125"),
            ("Transport", "transport", "per_carton", "1.10"), ("Cold store", "cold_storage", "per_pallet", "85"),
            ("Commission", "commission", "percent_of_income", "7.5"),
        ):
            services.add_charge_rule(pool, name=name, kind=kind, basis=basis, rate=D(rate))
        pay = payment_services.record_payment
        pay(grower=a, payment_type="advance", amount=D("1000.00"), reference="ADV-A", paid_date=today, pool=pool)
        pay(grower=b, payment_type="advance", amount=D("2000.00"), reference="ADV-B", paid_date=today, pool=pool)
        # A deduction is a charge withheld, not money paid; a payment against no pool is not this pool's.
        pay(grower=b, payment_type="deduction", amount=D("50.00"), reference="DED-B", paid_date=today, pool=pool)
        pay(grower=c, payment_type="advance", amount=D("300.00"), reference="ADV-C", paid_date=today)
        return pool


def figures(settlement):
    return {
        "gross": settlement.gross, "charges": [line.amount for line in settlement.charges],
        "paid": settlement.already_paid, "final": settlement.final,
    }


def test_the_hand_worked_example(acme, worked):
    # Class 1 kg: 600 + 1500 + 200 = 2300; income 10 000.00 -> rate 4.3478260869...
    # Class 2 kg: 300 + 400 + 250 = 950; income 2 000.00 (999 and its reversal net 0) -> rate 2.1052631578...
    # Gross, rounded once (half up):
    #   A: 600 × 10000/2300 + 300 × 2000/950 = 2608.6956... + 631.5789... = 3240.2745... -> 3240.27
    #   B: 1500 × 10000/2300 + 400 × 2000/950 = 6521.7391... + 842.1052... = 7363.8443... -> 7363.84
    #   C: 200 × 10000/2300 + 250 × 2000/950 = 869.5652... + 526.3157... = 1395.8810... -> 1395.88
    # Charges, in rule order, each rounded to cents:
    #   packing 0.35/kg packed:    A 900 -> 315.00;  B 1900 -> 665.00;  C 450 -> 157.50
    #   levy 0.0125/kg received:   A 1000 -> 12.50;  B 2000 -> 25.00;   C 500 -> 6.25
    #   transport 1.10/carton:     A 30 -> 33.00;    B 100 -> 110.00;   C 40 -> 44.00
    #   cold store 85/pallet:      A 300/900 = 1/3 -> 28.33;  B 600/900 + 400/600 = 4/3 -> 113.33;
    #                              C 200/600 + 200/200 = 4/3 -> 113.33
    #   commission 7.5% of gross:  A 243.02025 -> 243.02;  B 552.288 -> 552.29;  C 104.691 -> 104.69
    # Already paid against the pool: A 1000.00; B 2000.00 (the deduction is not); C 0 (its advance is poolless).
    # Final = gross - charges - paid:
    #   A: 3240.27 - 631.85 - 1000.00 = 1608.42
    #   B: 7363.84 - 1465.62 - 2000.00 = 3898.22
    #   C: 1395.88 - 425.77 - 0 = 970.11
    with acme:
        result = {s.grower_code: s for s in settle(worked)}

    assert figures(result["GA001"]) == {
        "gross": D("3240.27"), "charges": [D("315.00"), D("12.50"), D("33.00"), D("28.33"), D("243.02")],
        "paid": D("1000.00"), "final": D("1608.42"),
    }
    assert figures(result["GB002"]) == {
        "gross": D("7363.84"), "charges": [D("665.00"), D("25.00"), D("110.00"), D("113.33"), D("552.29")],
        "paid": D("2000.00"), "final": D("3898.22"),
    }
    assert figures(result["GC003"]) == {
        "gross": D("1395.88"), "charges": [D("157.50"), D("6.25"), D("44.00"), D("113.33"), D("104.69")],
        "paid": D("0.00"), "final": D("970.11"),
    }
    # Each line carries what it came from.
    b = result["GB002"]
    assert [(line.grade, line.kg) for line in b.grades] == [("class1", D("1500")), ("class2", D("400")),
                                                             ("class3", D("0"))]
    assert b.grades[0].rate.quantize(D("0.000001")) == D("4.347826")
    assert [(line.basis, line.rate, line.quantity) for line in b.charges][:3] == [
        ("per_kg_packed", D("0.35"), D("1900")), ("per_kg_received", D("0.0125"), D("2000")),
        ("per_carton", D("1.10"), D("100")),
    ]
    assert b.charges[3].quantity.quantize(D("0.0001")) == D("1.3333")
    assert b.charges[4].quantity == D("7363.84")


def test_closing_keeps_the_figures_and_settle_costs_a_fixed_number_of_queries(acme, worked):
    with acme:
        before = [(s.grower_code, s.final) for s in settle(worked)]
        services.close_pool(worked)
        with CaptureQueriesContext(connection) as queries:
            after = [(s.grower_code, s.final) for s in settle(worked)]
    assert after == before
    assert len(queries) <= 8


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(
    deliveries=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 3000), st.integers(0, 3000),
                                  st.integers(0, 3000)), min_size=1, max_size=8),
    income=st.tuples(*[st.decimals(D("0.01"), D("99999.99"), places=2)] * 3),
)
def test_the_growers_gross_adds_up_to_the_income(acme, deliveries, income):
    """Σ gross = Σ income of the grades that have kg, within half a cent per grower (one rounding each)."""
    with acme:
        from django.db import transaction

        sid = transaction.savepoint()
        try:
            packhouse = PackhouseFactory()
            growers = [GrowerFactory() for _ in range(5)]
            pool = make_pool(code="P-PROP")
            for grower_index, c1, c2, c3 in deliveries:
                packed(growers[grower_index], packhouse, net=c1 + c2 + c3 + 10, class1=c1, class2=c2, class3=c3)
            kg = {"class1": 0, "class2": 0, "class3": 0}
            for _, c1, c2, c3 in deliveries:
                kg["class1"] += c1
                kg["class2"] += c2
                kg["class3"] += c3
            for grade, amount in zip(("class1", "class2", "class3"), income, strict=True):
                services.record_income(pool, grade=grade, amount=amount, received_on=company_today(),
                                       reference=f"R-{grade}")
            result = settle(pool)
        finally:
            transaction.savepoint_rollback(sid)

    distributed = sum((amount for grade, amount in zip(kg, income, strict=True) if kg[grade]), D("0"))
    assert abs(sum(s.gross for s in result) - distributed) <= D("0.005") * len(result)
