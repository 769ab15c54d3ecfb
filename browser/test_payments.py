"""Finance records a payment, and a second submit of the same form makes no second payment."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from browser.helpers import FINANCE, company_today, login, nav_link

pytestmark = pytest.mark.browser


def fill_payment(page: Page, reference: str):
    page.get_by_label("Grower").fill("G0001")
    page.get_by_label("Payment type").select_option(label="Advance")
    page.get_by_label("Amount").fill("1500.00")
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Paid date").fill(company_today().isoformat())


def listed(page: Page, reference: str):
    """The rows of the payments list, filtered by the reference."""
    page.goto(f"/payments/?q={reference}")
    return page.get_by_role("row").filter(has_text=reference)


def test_finance_records_a_payment_once(page):
    login(page, FINANCE)
    nav_link(page, "Record payment").click()
    expect(page).to_have_url(re.compile(r"/payments/new/$"))

    reference = f"EFT-{uuid.uuid4().hex[:10].upper()}"
    fill_payment(page, reference)
    page.get_by_role("button", name="Record payment").click()

    expect(page).to_have_url(re.compile(r"/payments/(\?.*)?$"))
    expect(page.get_by_role("status")).to_contain_text(reference)
    expect(page.get_by_role("row").filter(has_text=reference)).to_have_count(1)

    # Back to the form, and send it again: whatever the form answers, there is still one payment.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/payments/new/$"))
    if page.get_by_label("Reference").input_value() != reference:
        fill_payment(page, reference)
    page.evaluate("window.beforeSubmit = true")
    page.get_by_role("button", name="Record payment").click()
    page.wait_for_function("() => !window.beforeSubmit")
    page.wait_for_load_state()
    expect(listed(page, reference)).to_have_count(1)


def test_double_clicking_save_records_one_payment(page):
    login(page, FINANCE)
    page.goto("/payments/new/")
    reference = f"EFT-{uuid.uuid4().hex[:10].upper()}"
    fill_payment(page, reference)
    page.evaluate("window.beforeSubmit = true")
    page.get_by_role("button", name="Record payment").dblclick()
    # Whatever the second click did, wait for the answer to arrive (a new document) before looking.
    page.wait_for_function("() => !window.beforeSubmit")
    page.wait_for_load_state()
    expect(listed(page, reference)).to_have_count(1)
