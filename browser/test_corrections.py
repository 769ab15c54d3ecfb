"""A manager corrects a batch's gross weight with a reason; finance reverses a payment and sees both linked."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from browser.helpers import FINANCE, MANAGER, company_today, login

pytestmark = pytest.mark.browser

BATCH_CODE = re.compile(r"PH1-\d{8}-\d{4}")


def test_a_manager_corrects_the_gross_weight_and_sees_the_history_row(page):
    login(page, MANAGER)
    page.goto("/batches/new/")
    page.get_by_label(re.compile(r"^Block\b")).fill("G0001-F1/B01")
    page.get_by_label("Packhouse").select_option(label="PH1 Main")
    page.get_by_label("Harvest date").fill(company_today().isoformat())
    page.get_by_label(re.compile(r"^Bins\b")).fill("10")
    page.get_by_label("Gross weight (kg)").fill("4200")
    page.get_by_label("Tare weight (kg)").fill("400")
    page.get_by_role("button", name="Record intake").click()
    expect(page.get_by_test_id("batch-code")).to_have_text(BATCH_CODE)
    page.get_by_role("link", name="Open batch").click()

    page.get_by_role("link", name="Correct", exact=True).click()
    expect(page).to_have_url(re.compile(r"/batches/\d+/correct/$"))
    page.get_by_label("Gross weight (kg)").fill("4250")
    page.get_by_role("button", name="Save correction").click()
    # No reason: refused, and said beside the field.
    expect(page.locator(".field.has-error")).to_contain_text("This field is required")

    page.get_by_label("Reason for the correction").fill("Weighbridge ticket 4411 re-read")
    page.get_by_role("button", name="Save correction").click()

    expect(page).to_have_url(re.compile(r"/batches/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("corrected")
    expect(page.locator("main")).to_contain_text(re.compile(r"Net\s*3\s850,00 kg"))  # the new net, en-ZA
    row = page.locator(".timeline li").filter(has_text="Corrected")
    expect(row).to_contain_text("Weighbridge ticket 4411 re-read")
    expect(row).to_contain_text(re.compile(r"gross_weight_kg: 4\s200,00 → 4\s250,00 kg"))


def test_finance_reverses_a_payment_and_sees_both_linked(page):
    login(page, FINANCE)
    reference = f"EFT-{uuid.uuid4().hex[:10].upper()}"
    page.goto("/payments/new/")
    page.get_by_label("Grower").fill("G0001")
    page.get_by_label("Payment type").select_option(label="Advance")
    page.get_by_label("Amount").fill("1500.00")
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Paid date").fill(company_today().isoformat())
    page.get_by_role("button", name="Record payment").click()

    page.goto(f"/payments/?q={reference}")
    page.get_by_role("link", name=reference, exact=True).click()
    page.get_by_label("Reason for reversing").fill("Paid to the wrong grower")
    page.get_by_role("button", name="Reverse payment").click()

    expect(page.get_by_test_id("reversed-by")).to_contain_text(f"Reversed by REV-{reference}")
    expect(page.get_by_role("button", name="Reverse payment")).to_have_count(0)
    page.get_by_test_id("reversed-by").get_by_role("link", name=f"REV-{reference}").click()

    expect(page.get_by_test_id("reverses")).to_contain_text(f"Reverses {reference}")
    expect(page.get_by_test_id("amount")).to_contain_text(re.compile(r"-1\s500,00"))
    expect(page.locator("main")).to_contain_text("Paid to the wrong grower")
