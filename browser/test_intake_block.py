"""A clerk records an intake by block, scanning two bins (a scanner types the code and presses Enter)."""

import re

import pytest
from playwright.sync_api import Page, expect

from browser.helpers import CLERK, company_today, login

pytestmark = pytest.mark.browser


def scan(page: Page, code: str):
    page.get_by_label("Bin codes").press_sequentially(code)
    page.get_by_label("Bin codes").press("Enter")


def test_intake_by_block_with_two_scanned_bins_shows_them_on_the_docket(page: Page):
    login(page, CLERK)
    page.goto("/batches/new/")

    # The picker searches by grower name and suggests the block with grower, farm and block.
    page.get_by_label(re.compile(r"^Block\b")).press_sequentially("Riverbend")
    suggestion = page.locator("#block-options option[value='G0002-F1/B01']")
    expect(suggestion).to_be_attached()
    expect(suggestion).to_have_text("G0002 Riverbend Orchards · G0002-F1 Home farm · B01 (Apple Gala)")
    page.get_by_label(re.compile(r"^Block\b")).fill("G0002-F1/B01")
    facts = page.locator("#block-facts")
    expect(facts).to_contain_text("G0002 Riverbend Orchards")
    expect(facts).to_contain_text("Gala")

    page.get_by_label("Packhouse").select_option(label="PH1 Main")
    page.get_by_label("Harvest date").fill(company_today().isoformat())
    scan(page, "bin-0101")
    # Enter ended the scan: the form was not sent.
    expect(page).to_have_url(re.compile(r"/batches/new/$"))
    scan(page, "BIN-0102")
    scan(page, "BIN-0101")
    expect(page.get_by_role("alert").filter(has_text="Already scanned: BIN-0101")).to_be_visible()
    expect(page.get_by_role("list", name="Scanned bins").get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_text("2 bins scanned")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Bins\b"))).to_have_value("2")

    page.get_by_label("Gross weight (kg)").fill("900")
    page.get_by_label("Tare weight (kg)").fill("100")
    page.get_by_role("button", name="Record intake").click()

    expect(page.get_by_test_id("batch-code")).to_be_visible()
    expect(page.get_by_test_id("farm")).to_have_text("G0002-F1 Home farm")
    expect(page.get_by_test_id("block")).to_have_text("B01")
    expect(page.get_by_test_id("bin-count")).to_have_text("2")
    expect(page.get_by_test_id("bins").get_by_role("listitem")).to_have_text(["BIN-0101", "BIN-0102"])
    expect(page.locator(".docket")).to_contain_text("P0002")
