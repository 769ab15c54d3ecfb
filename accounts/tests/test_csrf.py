"""Every form that posts carries a CSRF token, and a post without one is refused with 403.

The pages are found by crawling each role's links from the home page (the
company's admin included), so a new page with a form is checked without
being listed here.
"""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

MAX_PAGES = 120
SKIP = ("/static/", "/logout/", "/admin/logout/", "/api/")


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.forms = [], []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "",
                          "inputs": set()}
            self.forms.append(self._form)
        elif tag in ("input", "button", "select", "textarea") and self._form is not None and attrs.get("name"):
            self._form["inputs"].add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def crawl(client, start):
    """Every same-host HTML page reachable from `start`: {path: Page}. Query strings are dropped."""
    seen, pages, queue = {start}, {}, deque([start])
    while queue and len(pages) < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = Page()
        page.feed(response.content.decode())
        pages[path] = page
        for href in page.links:
            url = urlsplit(urljoin(path, href))
            if url.netloc or not url.path.startswith("/") or url.path.startswith(SKIP) or url.path in seen:
                continue
            if url.path.endswith((".csv", ".svg", ".json")):
                continue
            seen.add(url.path)
            queue.append(url.path)
    return pages


@pytest.fixture
def world(batch_with_payment):
    return batch_with_payment


def post_forms(pages):
    return [(path, form) for path, page in pages.items() for form in page.forms if form["method"] == "post"]


@pytest.mark.parametrize("role", ["Clerk", "Finance", "Manager"])
def test_every_form_that_posts_carries_a_csrf_token(acme, world, role):
    pages = crawl(acme.client(role), "/")
    forms = post_forms(pages)

    # The crawl reaches the forms it should: logout everywhere, and each role's own.
    assert len(pages) > 5
    actions = {urljoin(path, form["action"]) for path, form in forms}
    assert "/logout/" in actions
    if role == "Manager":
        assert any(path.startswith("/admin/") for path, _ in forms)
        assert "/growers/new/" in actions or "/growers/new/" in {path for path, _ in forms}
    missing = [(path, form["action"]) for path, form in forms if "csrfmiddlewaretoken" not in form["inputs"]]
    assert missing == []


def test_the_login_form_carries_a_csrf_token(acme):
    forms = post_forms(crawl(acme.client(), "/login/"))

    assert len(forms) == 1
    assert "csrfmiddlewaretoken" in forms[0][1]["inputs"]


@pytest.mark.parametrize("role", ["Clerk", "Finance", "Manager"])
def test_a_post_without_the_token_is_refused(acme, world, role):
    forms = post_forms(crawl(acme.client(role), "/"))
    strict = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    with acme:
        strict.force_login(acme.user(role))

    targets = sorted({urljoin(path, form["action"]) for path, form in forms})
    assert targets
    for target in targets:
        response = strict.post(target, {"anything": "1"})
        assert response.status_code == 403, target
        assert "CSRF" in response.text or "form" in response.text.lower()
    # Nothing was done: the session still works and the batch did not move.
    assert strict.get("/").status_code == 200
    world.refresh_from_db()
    assert world.status == "received"


def test_an_anonymous_login_post_without_the_token_is_refused(acme):
    strict = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)

    response = strict.post("/login/", {"username": "clerk@acme.test", "password": "correct-horse-battery"})

    assert response.status_code == 403
    assert strict.get("/").status_code == 302
