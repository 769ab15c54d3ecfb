"""What the browser tests share: the company they run against, its logins, and small page helpers."""

import datetime
import re
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

SCHEMA = "acme"
COMPANY_NAME = "Acme Fruit"
DOMAIN = "acme.localhost"
# Set explicitly, so "today" below is the company's today whatever the machine's zone.
TIME_ZONE = "Africa/Johannesburg"
PASSWORD = "Browser-tests-2026!"

MANAGER = f"manager@{SCHEMA}.test"
CLERK = f"clerk@{SCHEMA}.test"
FINANCE = f"finance@{SCHEMA}.test"

# The label test's pallet (browser/conftest.py seeds it): the company's GS1 prefix and the pallet's cartons.
GS1_PREFIX = "6001234"
LABEL_CARTONS = 72

PACKHOUSES = [("PH1", "Main"), ("PH2", "Riverside")]
GROWERS = [("G0001", "Oak Valley Farm"), ("G0002", "Riverbend Orchards"), ("G0003", "Hillside Estates")]


def company_today() -> datetime.date:
    return datetime.datetime.now(ZoneInfo(TIME_ZONE)).date()


def login(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the real login page, and wait until it has let us in."""
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def nav_link(page: Page, name: str):
    """A link of the site's navigation (not a button or a link in the page body)."""
    return page.get_by_role("navigation").get_by_role("link", name=name)
