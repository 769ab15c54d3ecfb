"""What a form accepts (docs/DATA_ENTRY.md): a decimal comma, unusual intakes confirmed, large payments read back."""

import os
import re
import uuid
from decimal import Decimal

import psycopg
import pytest
from playwright.sync_api import Page, expect

from browser.conftest import DB_PREFIX, with_database
from browser.helpers import CLERK, FINANCE, SCHEMA, company_today, login

pytestmark = pytest.mark.browser

NBSP = "\u00a0"


def query(live_url, sql, *params):
    """A row of the live server's database, in the company's schema: what was really saved."""
    url = with_database(os.environ["DATABASE_URL"], f"{DB_PREFIX}{os.getpid()}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {SCHEMA}")
        return conn.execute(sql, params).fetchone()


def fill_intake(page: Page, *, bins, gross, tare, notes):
    page.goto("/batches/new/")
    page.get_by_label(re.compile(r"^Block\b")).fill("G0003-F1/B01")
    page.get_by_label("Packhouse").select_option(label="PH2 Riverside")
    page.get_by_label("Harvest date").fill(company_today().isoformat())
    page.get_by_label(re.compile(r"^Bins\b")).fill(bins)
    page.get_by_label("Gross weight (kg)").fill(gross)
    page.get_by_label("Tare weight (kg)").fill(tare)
    page.get_by_label("Notes").fill(notes)


def test_a_decimal_comma_weight_is_that_weight_in_the_database_and_on_the_docket(page, live_url):
    login(page, CLERK)
    note = f"comma {uuid.uuid4().hex[:8]}"
    fill_intake(page, bins="14", gross="5000,5", tare="400", notes=note)
    expect(page.locator("#net-weight")).to_contain_text(re.compile(r"4\s600,50 kg"))
    page.get_by_role("button", name="Record intake").click()

    expect(page).to_have_url(re.compile(r"/batches/\d+/docket/$"))
    assert query(live_url, "SELECT gross_weight_kg, net_weight_kg FROM batches WHERE notes = %s", note) == (
        Decimal("5000.50"), Decimal("4600.50"))
    docket = page.locator(".docket")
    expect(docket).to_contain_text(f"5{NBSP}000,50 kg")  # en-ZA: a space groups thousands, a comma marks decimals
    expect(docket).to_contain_text(f"4{NBSP}600,50 kg")


def test_an_impossible_intake_is_saved_only_once_confirmed(page, live_url):
    login(page, CLERK)
    note = f"huge {uuid.uuid4().hex[:8]}"
    fill_intake(page, bins="10", gross="99999999", tare="0", notes=note)
    page.get_by_role("button", name="Record intake").click()

    expect(page).to_have_url(re.compile(r"/batches/new/$"))
    confirmation = page.get_by_test_id("confirm-unusual")
    expect(confirmation).to_contain_text(
        f"99{NBSP}999{NBSP}999,00 kg net from 10 bins is 9{NBSP}999{NBSP}999,90 kg per bin; "
        "apple bins usually hold 300–450 kg.")
    assert query(live_url, "SELECT count(*) FROM batches WHERE notes = %s", note) == (0,)

    page.get_by_label("These figures are right: record them").check()
    page.get_by_role("button", name="Record intake").click()

    expect(page).to_have_url(re.compile(r"/batches/\d+/docket/$"))
    net, confirmed = query(live_url, "SELECT b.net_weight_kg, h.payload -> 'confirmed_unusual' FROM batches b "
                                     "JOIN batch_history h ON h.batch_id = b.id AND h.event = 'created' "
                                     "WHERE b.notes = %s", note)
    assert net == Decimal("99999999.00") and "9\u00a0999\u00a0999,90 kg per bin" in confirmed[0]


def fill_payment(page: Page, *, amount, reference):
    page.goto("/payments/new/")
    page.get_by_label("Grower").fill("G0002")
    page.get_by_label("Payment type").select_option(label="Advance")
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Paid date").fill(company_today().isoformat())


def test_a_decimal_comma_payment_records_that_amount(page, live_url):
    login(page, FINANCE)
    reference = f"EFT-{uuid.uuid4().hex[:10].upper()}"
    fill_payment(page, amount="12,50", reference=reference)
    page.get_by_role("button", name="Record payment").click()

    expect(page).to_have_url(re.compile(r"/payments/(\?.*)?$"))
    assert query(live_url, "SELECT amount FROM grower_payments WHERE reference = %s", reference) == (
        Decimal("12.50"),)


def test_a_payment_above_the_confirmation_amount_is_read_back_first(page, live_url):
    login(page, FINANCE)
    reference = f"EFT-{uuid.uuid4().hex[:10].upper()}"
    fill_payment(page, amount="750 000", reference=reference)
    page.get_by_role("button", name="Record payment").click()

    expect(page.get_by_role("heading", name="Confirm this payment")).to_be_visible()
    facts = page.get_by_test_id("payment-confirmation")
    expect(facts).to_contain_text("G0002 Riverbend Orchards")
    expect(facts).to_contain_text("Advance")
    expect(page.get_by_test_id("confirm-amount")).to_have_text(f"ZAR 750{NBSP}000,00")
    assert query(live_url, "SELECT count(*) FROM grower_payments WHERE reference = %s", reference) == (0,)

    page.get_by_role("button", name=re.compile(r"^Yes, record")).click()

    expect(page).to_have_url(re.compile(r"/payments/(\?.*)?$"))
    expect(page.get_by_role("status")).to_contain_text(reference)
    assert query(live_url, "SELECT amount FROM grower_payments WHERE reference = %s", reference) == (
        Decimal("750000.00"),)


def test_a_payment_above_the_maximum_is_refused(page, live_url):
    login(page, FINANCE)
    reference = f"EFT-{uuid.uuid4().hex[:10].upper()}"
    fill_payment(page, amount="123456789012,99", reference=reference)
    page.get_by_role("button", name="Record payment").click()

    expect(page.locator("main")).to_contain_text("is above the company's largest payment")
    assert query(live_url, "SELECT count(*) FROM grower_payments WHERE reference = %s", reference) == (0,)
