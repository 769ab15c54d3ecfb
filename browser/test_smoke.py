"""The login page and the home page, in a real browser against a real gunicorn."""

import re

import pytest
from playwright.sync_api import expect

from browser.helpers import CLERK, COMPANY_NAME, login

pytestmark = pytest.mark.browser


def test_login_page_then_home_shows_the_role(page):
    page.goto("/login/")
    expect(page).to_have_title(re.compile("Log in"))
    expect(page).to_have_title(re.compile(re.escape(COMPANY_NAME)))
    expect(page.get_by_role("heading", level=1)).to_contain_text(COMPANY_NAME)

    login(page, CLERK)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("role")).to_have_text("Clerk")
