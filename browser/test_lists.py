"""The batch list's filter bar, the dashboard's links and the error pages, in Chromium (#13, items 5, 7, 8)."""

import contextlib
import re

import pytest
from playwright.sync_api import Page, expect

from browser.conftest import SCREENSHOTS, TIMEOUT_MS
from browser.helpers import CLERK, MANAGER, TIME_ZONE, company_today, login, nav_link

pytestmark = pytest.mark.browser

BATCH_CODE = re.compile(r"[A-Z0-9]+-\d{8}-\d{4}")


def record_intake(page: Page, block: str, packhouse: str) -> str:
    """An intake through the form, as a clerk; returns the new batch's code."""
    page.goto("/batches/new/")
    page.get_by_label(re.compile(r"^Block\b")).fill(block)
    page.get_by_label("Packhouse").select_option(label=packhouse)
    page.get_by_label("Harvest date").fill(company_today().isoformat())
    page.get_by_label(re.compile(r"^Bins\b")).fill("12")
    page.get_by_label("Gross weight (kg)").fill("5200")
    page.get_by_label("Tare weight (kg)").fill("480")
    page.get_by_role("button", name="Record intake").click()
    code = page.get_by_test_id("batch-code")
    expect(code).to_have_text(BATCH_CODE)
    return BATCH_CODE.search(code.inner_text()).group(0)


def listed_codes(page: Page) -> list[str]:
    return [BATCH_CODE.search(text).group(0) for text in page.locator("table tbody tr td:first-child").all_inner_texts()
            if BATCH_CODE.search(text)]


def test_search_by_grower_name_finds_the_batch(page: Page):
    login(page, CLERK)
    hillside = record_intake(page, "G0003-F1/B01", "PH2 Riverside")

    nav_link(page, "Batches").click()
    page.get_by_label("Search").fill("hillside")
    page.get_by_label("Search").press("Enter")

    expect(page).to_have_url(re.compile(r"[?&]q=hillside"))
    expect(page.locator("table tbody")).to_contain_text(hillside)
    codes = listed_codes(page)
    assert hillside in codes
    assert all("G0003" in row for row in page.locator("table tbody tr").all_inner_texts())
    # The packhouse filter narrows the same search, and keeps it.
    page.get_by_label("Packhouse").select_option(label="PH1 Main")
    expect(page).to_have_url(re.compile(r"packhouse=\d+"))
    expect(page.get_by_label("Search")).to_have_value("hillside")
    expect(page.locator("table tbody")).not_to_contain_text(hillside)


def test_status_chips_filter_without_ctrl_click(page: Page):
    login(page, CLERK)
    received = record_intake(page, "G0002-F1/B01", "PH1 Main")
    page.goto("/batches/")

    page.get_by_role("group", name="Status").get_by_label("Packed").click()
    expect(page).to_have_url(re.compile(r"status=packed"))
    badges = page.locator("table tbody .badge[class*=status-]")
    expect(badges.first).to_be_visible()
    assert set(badges.all_inner_texts()) == {"Packed"}
    assert received not in listed_codes(page)

    # A second chip adds to the first: both statuses at once.
    page.get_by_role("group", name="Status").get_by_label("Received").click()
    expect(page).to_have_url(re.compile(r"status=packed.*status=received|status=received.*status=packed"))
    expect(page.locator("table tbody")).to_contain_text(received)
    assert set(badges.all_inner_texts()) == {"Packed", "Received"}
    expect(page.get_by_role("group", name="Status").get_by_label("Packed")).to_be_checked()


def test_the_filter_bar_leaves_rows_visible_at_1366_by_768(page: Page):
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, CLERK)
    page.goto("/batches/")

    rows_top = page.locator("table tbody").evaluate("body => body.getBoundingClientRect().top")
    # Room for at least eight rows of about 42 px below the filter bar, without scrolling.
    assert rows_top <= 768 - 8 * 42, rows_top
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_dashboard_counts_are_links_to_the_filtered_list(page: Page):
    login(page, MANAGER)
    statuses = page.get_by_test_id("statuses")
    packed = statuses.get_by_role("link").nth(3)  # received, grading, packing, packed
    count = int(re.sub(r"\D", "", packed.inner_text()))
    assert count >= 1  # the label test's batch, at least

    packed.click()

    expect(page).to_have_url(re.compile(r"/batches/\?status=packed$"))
    expect(page.get_by_role("group", name="Status").get_by_label("Packed")).to_be_checked()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(count)
    assert set(page.locator("table tbody .badge[class*=status-]").all_inner_texts()) == {"Packed"}

    # Open batches by age: each count is a link, to the open statuses in that intake range.
    page.goto("/")
    age_links = page.get_by_test_id("open-by-age").get_by_role("link")
    expect(age_links).to_have_count(4)
    href = age_links.first.get_attribute("href")
    assert "status=received" in href and "intake_date_after=" in href
    # The chart's bars link to their day's batches.
    today = company_today().isoformat()
    expect(page.locator(f'svg.chart a[href*="intake_date_after={today}"]')).to_have_count(1)


def test_a_404_has_the_navigation_and_a_way_back(page: Page):
    login(page, CLERK)

    response = page.goto("/no-such-page/")

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    nav_link(page, "Batches").click()
    expect(page).to_have_url(re.compile(r"/batches/$"))
    page.go_back()
    page.get_by_role("link", name="Back to the start").click()
    expect(page.get_by_test_id("role")).to_be_visible()


def test_a_get_of_a_post_only_address_is_a_page(page: Page):
    login(page, CLERK)

    response = page.goto("/batches/1/transition/")

    assert response is not None and response.status == 405
    expect(page.get_by_role("heading", name=re.compile("Not possible"))).to_be_visible()
    expect(nav_link(page, "Batches")).to_be_visible()


def test_a_failing_htmx_request_shows_a_message(page: Page):
    login(page, CLERK)
    page.goto("/batches/")
    # An htmx element like the app's own, added from outside the page (the CSP allows no inline script).
    page.evaluate("""() => {
        for (const [id, url] of [["missing", "/batches/999999999/"], ["broken", "/batches/?broken=1"],
                                 ["offline", "/batches/?offline=1"]]) {
            const button = document.createElement("button");
            button.id = id; button.textContent = id; button.setAttribute("hx-get", url);
            document.querySelector("main").appendChild(button);
            htmx.process(button);
        }
    }""")
    page.route(re.compile(r"broken=1"), lambda route: route.fulfill(status=500, body="boom"))
    page.route(re.compile(r"offline=1"), lambda route: route.abort())
    message = page.get_by_test_id("request-error")

    page.locator("#missing").click()
    expect(message).to_be_visible()
    expect(message).to_contain_text("not found")
    expect(message).to_have_attribute("role", "alert")

    page.locator("#broken").click()
    expect(message).to_contain_text("Something went wrong")

    page.locator("#offline").click()
    expect(message).to_contain_text("could not be reached")


@pytest.fixture
def phone(browser, live_url, request):
    context = browser.new_context(base_url=live_url, locale="en-ZA", timezone_id=TIME_ZONE,
                                  viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()


def test_the_batch_list_has_no_horizontal_overflow_on_a_phone(phone: Page):
    login(phone, CLERK)
    phone.goto("/batches/")

    width = phone.evaluate("window.innerWidth")
    assert phone.evaluate("document.documentElement.scrollWidth") <= width
    # Nor inside the table: Status and Net kg are on screen, not behind a sideways scroll.
    wrap = phone.locator(".table-wrap").evaluate("wrap => [wrap.scrollWidth, wrap.clientWidth]")
    assert wrap[0] <= wrap[1], wrap
    for name in ("Status", "Net kg"):
        box = phone.get_by_role("columnheader", name=name).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, name
