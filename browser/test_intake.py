"""A clerk records an intake and takes the batch to packed, then finds and exports it."""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from browser.helpers import CLERK, company_today, login, nav_link

pytestmark = pytest.mark.browser

BATCH_CODE = re.compile(r"PH1-\d{8}-\d{4}")


def fill_intake(page: Page, *, gross="4200", tare="400"):
    page.get_by_label(re.compile(r"^Block\b")).fill("G0001-F1/B01")
    page.get_by_label("Packhouse").select_option(label="PH1 Main")
    page.get_by_label("Harvest date").fill(company_today().isoformat())
    page.get_by_label(re.compile(r"^Bins\b")).fill("10")
    page.get_by_label("Gross weight (kg)").fill(gross)
    page.get_by_label("Tare weight (kg)").fill(tare)


def test_clerk_takes_an_intake_to_packed_then_finds_and_exports_it(page):
    login(page, CLERK)
    nav_link(page, "New intake").click()
    expect(page).to_have_url(re.compile(r"/batches/new/$"))

    fill_intake(page)
    # The net weight is worked out in the page as the clerk types, before anything is sent.
    expect(page.locator("#net-weight")).to_contain_text(re.compile(r"3\s800,00"))
    page.get_by_role("button", name="Record intake").click()

    # The delivery docket.
    code_element = page.get_by_test_id("batch-code")
    expect(code_element).to_have_text(BATCH_CODE)
    code = BATCH_CODE.search(code_element.inner_text()).group(0)
    assert code.startswith(f"PH1-{company_today():%Y%m%d}-")

    page.get_by_role("link", name="Open batch").click()
    expect(page).to_have_url(re.compile(r"/batches/\d+/$"))
    page.get_by_role("button", name="Start grading").click()
    expect(page.get_by_test_id("status")).to_have_text("Grading")

    page.get_by_label("Class 1 (kg)").fill("3000")
    page.get_by_label("Class 2 (kg)").fill("500")
    page.get_by_label("Class 3 (kg)").fill("100")
    page.get_by_label("Waste (kg)").fill("200")
    page.get_by_role("button", name="Save pack-out").click()
    # (3000 + 500 + 100) / 3800 net
    expect(page.locator("main")).to_contain_text("94,7%")  # en-ZA: decimal comma

    page.get_by_role("button", name="Start packing").click()
    expect(page.get_by_test_id("status")).to_have_text("Packing")
    page.get_by_role("button", name="Mark packed").click()
    expect(page.get_by_test_id("status")).to_have_text("Packed")

    page.goto(f"/batches/?status=packed&q={code}")
    expect(page.get_by_role("row").filter(has_text=code)).to_have_count(1)

    export = page.get_by_role("link", name="Export CSV").or_(page.get_by_role("button", name="Export CSV"))
    with page.expect_download() as download_info:
        export.click()
    download = download_info.value
    text = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert any("code" in column.lower() for column in header), header
    assert code not in header
    # The export is of the current filter: this batch alone.
    assert len(body) == 1 and code in body[0], rows


def test_tare_over_gross_is_shown_beside_the_field_and_nothing_is_recorded(page):
    login(page, CLERK)
    page.goto("/batches/new/")
    fill_intake(page, gross="4200", tare="5000")
    page.get_by_role("button", name="Record intake").click()

    message = re.compile("tare weight must be less than the gross weight", re.I)
    # Beside the field, and in the summary at the top with a link to it.
    expect(page.locator("#id_tare_weight_kg_errors").get_by_text(message)).to_be_visible()
    expect(page.locator("[data-error-summary]").get_by_role("link", name=message)).to_be_visible()
    expect(page.get_by_test_id("batch-code")).to_have_count(0)
    expect(page.get_by_role("button", name="Record intake")).to_be_visible()
    expect(page.get_by_label("Gross weight (kg)")).to_have_value("4200")
