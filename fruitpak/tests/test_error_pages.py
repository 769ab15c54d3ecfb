"""The error pages are the product's own, with the navigation and a way back (#13, item 8)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from batches.tests.factories import BatchFactory
from core import views as core_views

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NAVIGATION = 'aria-label="Main"'
WAY_BACK = '<a href="/">Back to the start</a>'


def assert_product_page(response, status, heading):
    html = response.content.decode()
    assert response.status_code == status
    assert NAVIGATION in html and 'href="/batches/"' in html, "no navigation"
    assert WAY_BACK in html
    assert heading in html
    assert 'href="#main">Skip to content' in html
    return html


def test_404_has_the_navigation(acme):
    assert_product_page(acme.client("Clerk").get("/no-such-page/"), 404, "Not found")


def test_404_of_an_object_has_the_navigation(acme):
    assert_product_page(acme.client("Clerk").get("/batches/999999999/"), 404, "Not found")


def test_403_has_the_navigation(acme):
    assert_product_page(acme.client("Clerk").get("/payments/new/"), 403, "Not allowed")


def test_a_get_of_a_post_only_address_is_a_405_page_not_a_blank_one(acme):
    with acme:
        batch = BatchFactory()

    response = acme.client("Clerk").get(f"/batches/{batch.pk}/transition/")

    assert_product_page(response, 405, "Not possible at this address")
    assert response["Allow"] == "POST"


def test_the_apis_405_stays_json(acme):
    response = Client(HTTP_HOST=acme.host).get("/api/auth/login")

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")


def test_head_of_a_post_only_address_keeps_an_empty_405(acme):
    with acme:
        batch = BatchFactory()

    response = acme.client("Clerk").head(f"/batches/{batch.pk}/transition/")

    assert response.status_code == 405 and response.content == b""


def test_a_refused_csrf_check_has_the_navigation(acme):
    client = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)
    with acme:
        client.force_login(acme.user("Clerk"))
        batch = BatchFactory()

    response = client.post(f"/batches/{batch.pk}/transition/", {"to_status": "grading", "version": "1"})

    assert_product_page(response, 403, "This form has expired")


def test_500_has_the_navigation(acme, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("reconciliation.views.sections_html", broken)
    client = acme.client("Manager")
    client.raise_request_exception = False

    html = assert_product_page(client.get("/"), 500, "Something went wrong")
    assert "a bug" not in html and "Traceback" not in html


def test_500_falls_back_to_a_plain_page_when_the_navigation_breaks_too(acme, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("reconciliation.views.sections_html", broken)
    monkeypatch.setattr(core_views, "error_page", broken)
    client = acme.client("Manager")
    client.raise_request_exception = False

    response = client.get("/")

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_the_public_hosts_404_is_the_standalone_page(client):
    response = client.get("/no-such-page/", HTTP_HOST="localhost")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Not found" in html and NAVIGATION not in html and WAY_BACK in html


def test_anonymous_404_has_a_way_back(acme):
    response = acme.client().get("/no-such-page/")

    assert response.status_code == 404
    assert WAY_BACK in response.content.decode()


@pytest.mark.parametrize("path", ["/batches/new/", "/payments/new/", "/company/settings/", "/batches/"])
def test_every_aria_describedby_names_an_element_of_the_page(acme, path):
    html = acme.client("Manager").get(path).content.decode()

    ids = set(re.findall(r'\sid="([^"]+)"', html))
    described = {name for value in re.findall(r'aria-describedby="([^"]+)"', html) for name in value.split()}
    assert described, path
    assert described <= ids, described - ids


# --- make run: DEBUG off unless asked for ---------------------------------------------


def dry_run(*args):
    env = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    result = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if "honcho start" in line)


def test_make_run_serves_with_debug_off_unless_asked():
    assert "DEBUG=false" in dry_run()
    assert "DEBUG=true" in dry_run("DEBUG=1")
    assert "DEBUG=false" in dry_run("DEBUG=0")


def test_the_dev_profile_with_debug_off_still_serves_static_files():
    """`make run` is the dev profile with DEBUG off: WhiteNoise serves the source folders, no collectstatic."""
    probe = ("import django; django.setup(); from django.conf import settings; "
             "print(settings.DEBUG, settings.WHITENOISE_USE_FINDERS, "
             "'whitenoise.middleware.WhiteNoiseMiddleware' in settings.MIDDLEWARE)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fruitpak.settings.dev", "DEBUG": "false"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_static_files_are_served_with_debug_off(acme, settings):
    settings.DEBUG = False

    response = Client().get("/static/css/app.css", HTTP_HOST=acme.host)

    assert response.status_code == 200
