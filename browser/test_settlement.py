"""Settling a pool end to end in a real browser (issue #18 item 8): Finance records the pool's income and charges
and closes it (a queued job: the real worker beside gunicorn closes it), prepares the payment run and is refused
its approval, a Manager approves, Finance posts, and each grower's statement shows a zero balance on the pool
with the remittance advice linked.

The data (made through the services on the server's database): pear Forelle, a variety of its own, so no other
browser test's batches fall into the pool. S0901: 1 000 kg net, 800 class 1 + 150 class 2, advanced 1 000,00
against the pool. S0902: 600 kg net, 300 class 1 + 150 class 2 (300–450 kg a bin, as intake expects of pears).
Income: class 1 5 500,00 over 1 100 kg = 5,00/kg; class 2 900,00 over 300 kg = 3,00/kg.
Gross: S0901 800 × 5 + 150 × 3 = 4 450,00; S0902 300 × 5 + 150 × 3 = 1 950,00.
Charges: packing 0,50 per kg packed (950 kg: 475,00; 450 kg: 225,00) and commission 10 % of gross (445,00; 195,00).
Finals: S0901 4 450,00 − 920,00 − 1 000,00 = 2 530,00; S0902 1 950,00 − 420,00 = 1 530,00.
"""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from browser.helpers import FINANCE, MANAGER, company_today, login

pytestmark = pytest.mark.browser
NBSP = "\u00a0"
POOL = "P-FORELLE"

SETUP = """
    import json
    from datetime import date
    from decimal import Decimal
    from django_tenants.utils import tenant_context
    from batches import services as batches
    from growers.services import create_block, create_farm, create_grower
    from packhouses.models import Packhouse
    from payments.services import record_payment
    from pools.services import create_pool
    from seasons.services import current_season
    from tenants.models import Company

    with tenant_context(Company.objects.get(schema_name="acme")):
        packhouse = Packhouse.objects.get(code="PH1")
        pool = create_pool(season=current_season(), code="P-FORELLE", name="Forelle pears", fruit_type="pear",
                           variety="Forelle")
        growers = {}
        for code, name, net, class1, class2 in (("S0901", "Forelle Farm", 1000, 800, 150),
                                                ("S0902", "Pear Tree Estate", 600, 300, 150)):
            grower = create_grower(code=code, name=name)
            farm = create_farm(grower=grower, code=code + "-F1", name="Home farm")
            block = create_block(farm=farm, code="B01", fruit_type="pear", variety="Forelle")
            batch = batches.record_intake(packhouse=packhouse, block=block, harvest_date=date.today(),
                                          bin_count=round(net / 350), gross_weight_kg=Decimal(net + 400),
                                          tare_weight_kg=Decimal(400))
            batch = batches.record_packout(batches.transition(batch, "grading"), class1_kg=Decimal(class1),
                                           class2_kg=Decimal(class2), class3_kg=Decimal(0),
                                           waste_kg=Decimal(net - class1 - class2))
            batches.transition(batches.transition(batch, "packing"), "packed")
            growers[code] = grower
        record_payment(grower=growers["S0901"], payment_type="advance", amount=Decimal("1000.00"),
                       reference="ADV-FORELLE-S0901", paid_date=date.today(), pool=pool)
        print(json.dumps({"pool": pool.pk, "growers": {code: g.pk for code, g in growers.items()}}))
"""


@pytest.fixture(scope="module")
def forelle(server_shell):
    return json.loads(server_shell(SETUP).strip().splitlines()[-1])


def switch_user(page: Page, email: str):
    page.context.clear_cookies()
    login(page, email)


def record_income(page: Page, grade: str, amount: str, reference: str):
    page.get_by_role("link", name="Record income").click()
    page.get_by_label("Grade").select_option(grade)
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Received on").fill(company_today().isoformat())
    page.get_by_label("Reference").fill(reference)
    page.get_by_role("button", name="Record income").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Pool {POOL}")


def add_charge(page: Page, name: str, kind: str, basis: str, rate: str):
    page.get_by_role("link", name="Add charge").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Basis").select_option(basis)
    page.get_by_label("Rate").fill(rate)
    page.get_by_role("button", name=re.compile("Add charge", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Pool {POOL}")


def test_finance_settles_a_pool_and_the_statement_reads_zero(page: Page, forelle, job_worker):
    login(page, FINANCE)
    page.goto(f"/pools/{forelle['pool']}/")
    record_income(page, "class1", f"5{NBSP}500,00", "MR-FORELLE-1")
    record_income(page, "class2", "900,00", "MR-FORELLE-2")
    add_charge(page, "Packing", "packing", "per_kg_packed", "0,50")
    add_charge(page, "Commission", "commission", "percent_of_income", "10")
    growers = page.get_by_role("table", name="kg by grade and grower")
    expect(growers.get_by_role("row").filter(has_text="S0901")).to_contain_text(f"2{NBSP}530,00")

    # The close is queued; the worker beside gunicorn closes it and the page reloads itself.
    page.get_by_role("button", name="Close pool").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Closed", timeout=30_000)

    page.get_by_role("button", name="Prepare payment run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Draft")
    expect(page.get_by_test_id("issues")).to_contain_text("Nothing blocks approval")
    finals = page.get_by_test_id("final")
    expect(finals).to_have_text([f"2{NBSP}530,00", f"1{NBSP}530,00"])
    run_url = page.url

    # The preparer may not approve their own run.
    page.get_by_test_id("issues").get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("another Finance user or a Manager approves it")
    expect(page.get_by_test_id("run-status")).to_have_text("Draft")

    switch_user(page, MANAGER)
    page.goto(run_url)
    page.get_by_test_id("issues").get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Approved")

    switch_user(page, FINANCE)
    page.goto(run_url)
    page.get_by_role("button", name="Post payments").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Posted")
    expect(page.get_by_role("status")).to_contain_text("posted")

    for code, gross, charges, paid in (("S0901", f"4{NBSP}450,00", "920,00", f"3{NBSP}530,00"),
                                       ("S0902", f"1{NBSP}950,00", "420,00", f"1{NBSP}530,00")):
        page.goto(f"/reconciliation/growers/{forelle['growers'][code]}/statement/")
        row = page.get_by_test_id(f"pool-balance-{POOL}")
        expect(row).to_contain_text(gross)
        expect(row).to_contain_text(charges)
        expect(row).to_contain_text(paid)
        expect(row.get_by_test_id("pool-balance")).to_have_text("0,00")
        advice = row.get_by_role("link", name=re.compile(r"^RA-\d{6}$"))
        expect(advice).to_have_count(1)

    # The advice the statement links to opens, with the grower's final on it.
    number = advice.inner_text()
    advice.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("body")).to_contain_text(f"1{NBSP}530,00")
