"""The pages satisfy their Content-Security-Policy: no inline script, style or handler anywhere.

Chromium reports every blocked inline script, style attribute or eval as a
`securitypolicyviolation` event; a listener installed before any page
script runs sends each one back here. The test visits the main pages of
each role (by following their links), the company admin and the API docs,
and uses the grower search, the net weight and the docket's print button.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from browser.helpers import CLERK, FINANCE, MANAGER, login, nav_link
from browser.test_intake import fill_intake

pytestmark = pytest.mark.browser

LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation({
    page: document.location.pathname, directive: event.violatedDirective, blocked: event.blockedURI,
    sample: event.sample, line: event.lineNumber, source: event.sourceFile,
  });
});
"""
SKIP = re.compile(r"^/(static/|logout/|admin/logout/|api/(?!docs/))|\.csv$|/export")
MAX_PAGES = 45


@pytest.fixture
def violations(page: Page):
    """Every CSP violation and CSP console error of the page's context, in order."""
    found = []
    page.context.expose_function("reportCspViolation", lambda violation: found.append(violation))
    page.context.add_init_script(LISTENER)
    page.on("console", lambda message: "Content Security Policy" in message.text and found.append(
        {"page": page.url, "console": message.text}))
    return found


def visit(page: Page, path: str):
    response = page.goto(path)
    assert response is not None and response.status < 500, path
    page.wait_for_load_state("networkidle")
    if urlsplit(page.url).path == urlsplit(path).path and response.status == 200:
        csp = response.header_value("content-security-policy") or ""
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp, path


def crawl(page: Page, start: str, limit: int = MAX_PAGES) -> list[str]:
    """Visit the same-host pages reachable from `start` by links; return their paths."""
    seen, queue, visited = {start}, [start], []
    while queue and len(visited) < limit:
        path = queue.pop(0)
        visit(page, path)
        visited.append(path)
        # An SVG link's href is an SVGAnimatedString (the dashboard chart's bars), an HTML link's a string.
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => typeof link.href === 'string' ? "
                                                     "link.href : new URL(link.href.baseVal, document.baseURI).href)")
        for href in hrefs:
            url = urlsplit(href)
            if url.netloc != urlsplit(page.url).netloc or url.path in seen or SKIP.search(url.path):
                continue
            seen.add(url.path)
            queue.append(url.path)
    return visited


def test_the_listener_sees_a_violation(page: Page, violations):
    """The control: an inline style attribute set on a real page is reported, so zero below means zero."""
    visit(page, "/login/")

    page.evaluate("() => document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")

    expect(page.locator("body")).to_contain_text("x")
    page.wait_for_timeout(200)
    assert any(v.get("directive", "").startswith("style-src") for v in violations), violations


def test_a_clerks_pages_satisfy_the_csp(page: Page, violations):
    visit(page, "/login/")
    login(page, CLERK)

    # Scripts at work: the block search (htmx), the live net weight, the docket's print button.
    nav_link(page, "New intake").click()
    page.get_by_label(re.compile(r"^Block\b")).fill("G00")
    expect(page.locator("datalist option").first).to_be_attached()
    fill_intake(page)
    expect(page.locator("#net-weight")).to_contain_text(re.compile(r"3\s800,00"))
    page.get_by_role("button", name="Record intake").click()
    expect(page.get_by_test_id("batch-code")).to_be_visible()

    visited = crawl(page, "/")

    assert "/batches/" in visited and any(re.fullmatch(r"/batches/\d+/", path) for path in visited)
    assert violations == []


def test_finance_pages_satisfy_the_csp(page: Page, violations):
    login(page, FINANCE)

    visited = crawl(page, "/")

    assert {"/payments/", "/payments/new/", "/reconciliation/"} <= set(visited)
    assert violations == []


def test_a_managers_pages_the_admin_and_the_api_docs_satisfy_the_csp(page: Page, violations):
    login(page, MANAGER)

    visited = crawl(page, "/")
    admin = crawl(page, "/admin/", limit=25)
    # A change form too (with its widgets and related-object links), which the crawl's breadth may not reach.
    visit(page, "/admin/packhouses/packhouse/")
    page.locator("#result_list a[href$='/change/']").first.click()
    expect(page.locator("#content h1, #content h2").first).to_be_visible()
    admin.append(urlsplit(page.url).path)
    visit(page, "/api/docs/")
    # Swagger UI really ran (its init script is a separate request, not inline).
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("FruitPAK API")
    visit(page, "/no-such-page/")

    assert "/growers/new/" in visited
    assert any(path.endswith("/change/") for path in admin) and any(path.endswith("/add/") for path in admin)
    assert violations == []
