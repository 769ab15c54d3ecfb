"""Forms that are quick to read and hard to lose: the error summary, the grower picker, the intake's
layout on a laptop and a phone, a post after the session ended, and the word after logout."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from browser.helpers import CLERK, FINANCE, MANAGER, PASSWORD, company_today, login

pytestmark = pytest.mark.browser


def test_a_failed_submit_puts_a_summary_on_top_that_takes_the_focus_and_leads_to_the_field(page: Page):
    login(page, CLERK)
    page.goto("/batches/new/")
    page.get_by_role("button", name="Record intake").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("heading")).to_contain_text("problems")
    link = summary.get_by_role("link", name=re.compile(r"^Gross weight \(kg\):"))
    link.click()
    expect(page.get_by_label("Gross weight (kg)")).to_be_focused()


def test_the_intake_form_fits_a_laptop_screen_up_to_its_button(page: Page):
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, CLERK)
    page.goto("/batches/new/")
    button = page.get_by_role("button", name="Record intake").bounding_box()
    assert button["y"] + button["height"] <= 768, button
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


@pytest.mark.parametrize(("path", "user"), [("/batches/new/", CLERK), ("/batches/", CLERK),
                                            ("/payments/new/", FINANCE), ("/", MANAGER)])
def test_on_a_phone_no_page_runs_off_the_screen_and_the_header_stays_short(page: Page, path, user):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, user)
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 130, header


def test_the_grower_picker_finds_by_name_and_shows_code_and_name_after_a_failed_submit(page: Page):
    login(page, FINANCE)
    page.goto("/payments/new/")
    page.get_by_label("Grower").fill("riverbend orchards")
    page.get_by_label("Payment type").select_option(label="Advance")
    page.get_by_label("Amount").fill("100.00")
    page.get_by_label("Paid date").fill(company_today().isoformat())
    page.get_by_role("button", name="Record payment").click()  # no reference: refused

    expect(page.locator("[data-error-summary]")).to_contain_text("Reference")
    expect(page.get_by_label("Grower")).to_have_value("G0002 · Riverbend Orchards")
    reference = f"EFT-{uuid.uuid4().hex[:10].upper()}"
    page.get_by_label("Reference").fill(reference)
    page.get_by_role("button", name="Record payment").click()
    expect(page).to_have_url(re.compile(r"/payments/(\?.*)?$"))
    expect(page.get_by_role("row").filter(has_text=reference)).to_contain_text("G0002")


def test_a_form_posted_after_the_session_ended_comes_back_filled_in_after_the_login(page: Page):
    login(page, CLERK)
    page.goto("/batches/new/")
    page.get_by_label(re.compile(r"^Block\b")).fill("G0002-F1/B01")
    page.get_by_label("Packhouse").select_option(label="PH2 Riverside")
    page.get_by_label(re.compile(r"^Bins\b")).fill("5")
    page.get_by_label("Gross weight (kg)").fill("2345.50")
    page.get_by_label("Tare weight (kg)").fill("345.50")
    page.get_by_label("Notes").fill("kept across the login")

    # The session ends on the server's side (expiry, or the admin logged everyone out).
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Record intake").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("status")).to_contain_text("Your session ended before the form was saved")

    page.get_by_label("Email").fill(CLERK)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/batches/new/$"))
    expect(page.get_by_text("What you typed before your session ended is filled in")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Block\b"))).to_have_value("G0002-F1/B01")
    expect(page.get_by_label("Packhouse")).to_have_value(
        page.get_by_label("Packhouse").locator("option", has_text="PH2").get_attribute("value"))
    expect(page.get_by_label("Gross weight (kg)")).to_have_value("2345.50")
    expect(page.get_by_label("Notes")).to_have_value("kept across the login")
    expect(page.locator("#net-weight")).to_contain_text(re.compile(r"2\s000,00 kg"))  # en-ZA

    page.get_by_role("button", name="Record intake").click()
    expect(page.get_by_test_id("batch-code")).to_be_visible()
    expect(page.get_by_test_id("farm")).to_have_text("G0002-F1 Home farm")
    expect(page.locator(".docket")).to_contain_text("Riverside")


def test_the_next_intake_starts_at_the_last_packhouse_and_offers_the_last_block(page: Page):
    login(page, CLERK)
    page.goto("/batches/new/")
    page.get_by_label(re.compile(r"^Block\b")).fill("G0003-F1/B01")
    page.get_by_label("Packhouse").select_option(label="PH2 Riverside")
    page.get_by_label(re.compile(r"^Bins\b")).fill("3")
    page.get_by_label("Gross weight (kg)").fill("1300")
    page.get_by_label("Tare weight (kg)").fill("100")
    page.get_by_role("button", name="Record intake").click()
    expect(page.get_by_test_id("batch-code")).to_be_visible()

    page.goto("/batches/new/")
    expect(page.get_by_label("Packhouse").locator("option:checked")).to_have_text("PH2 Riverside")
    expect(page.locator("#block-options option[value='G0003-F1/B01']")).to_be_attached()


def test_logout_says_so(page: Page):
    login(page, CLERK)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("status")).to_contain_text("You have logged out.")


def test_back_keeps_the_grower_typed_in_the_picker(page: Page):
    login(page, FINANCE)
    page.goto("/payments/new/")
    page.get_by_label("Grower").fill("G0002 · Riverbend Orchards")
    page.goto("/payments/")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/payments/new/$"))
    expect(page.get_by_label("Grower")).to_have_value("G0002 · Riverbend Orchards")
    # A fresh visit starts empty.
    page.goto("/payments/new/")
    expect(page.get_by_label("Grower")).to_have_value("")
