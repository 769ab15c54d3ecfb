"""A closed pool with two growers, one ending positive and one negative, for the payment-run tests.

Class 1: 1 000.00 over 1 600 kg (800 each) = 500.00 each; class 2: 400.00 over 200 kg = 200.00 each; gross 700.00.
Charges: packing 0.10 × 900 kg = 90.00, levy 0.01 × 1 000 kg = 10.00, commission 5 % × 700.00 = 35.00: 135.00.
GA001 was advanced 100.00: final 465.00. GB002 was advanced 1 000.00: final −435.00.
"""

from decimal import Decimal

from core.tenancy import company_today
from growers.models import Grower
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from payments import services as payment_services
from pools import services as pool_services
from pools.tests.helpers import make_pool, packed

D = Decimal


def closed_pool(code="P-RUN", fruit_type="apple", variety="", close=True, growers=("GA001", "GB002")):
    packhouse = PackhouseFactory()
    pool = make_pool(code=code, fruit_type=fruit_type, variety=variety)
    today = company_today()
    advances = {0: D("100.00"), 1: D("1000.00")}
    for index, grower_code in enumerate(growers):
        # A grower may already deliver to another pool of the test.
        grower = Grower.objects.filter(code=grower_code).first() or GrowerFactory(code=grower_code)
        packed(grower, packhouse, net=1000, class1=800, class2=100, fruit_type=fruit_type,
               variety=variety or "Gala")
        payment_services.record_payment(grower=grower, payment_type="advance", amount=advances.get(index, D("1")),
                                        reference=f"ADV-{code}-{grower_code}", paid_date=today, pool=pool)
    pool_services.record_income(pool, grade="class1", amount=D("1000.00"), received_on=today, reference=f"{code}-1")
    pool_services.record_income(pool, grade="class2", amount=D("400.00"), received_on=today, reference=f"{code}-2")
    for name, kind, basis, rate in (("Packing", "packing", "per_kg_packed", "0.10"),
                                    ("Levy", "levy", "per_kg_received", "0.01"),
                                    ("Commission", "commission", "percent_of_income", "5")):
        pool_services.add_charge_rule(pool, name=name, kind=kind, basis=basis, rate=D(rate))
    if close:
        pool = pool_services.close_pool(pool)
    return pool


def approved_run(pool, finance, manager, decision="carry_forward"):
    run = payment_services.prepare_run(pool, by=finance)
    for line in run.lines.filter(final__lt=0):
        payment_services.decide(run, line, decision, by=finance)
    return payment_services.approve_run(run, by=manager)
