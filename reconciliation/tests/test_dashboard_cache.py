"""The dashboard's sections are rendered once and served from the cache until what they show changes (#19)."""

import re
from decimal import Decimal

import pytest
from django_tenants.utils import get_public_schema_name, schema_context

from batches.tests.factories import BatchFactory
from reconciliation.services import refresh_intake_view
from tenants import services as company_services
from tenants.models import Company

pytestmark = pytest.mark.django_db

SECTIONS_TEMPLATE = "reconciliation/_dashboard_sections.html"


def rendered(response):
    return [template.name for template in response.templates]


def todays_batches(html):
    return int(re.search(r'data-testid="today-batches">([^<]+)</a>', html).group(1))


def test_the_second_view_serves_the_sections_without_rendering_them(acme):
    client = acme.client("Manager")

    first, second = client.get("/"), client.get("/")

    assert SECTIONS_TEMPLATE in rendered(first)
    assert SECTIONS_TEMPLATE not in rendered(second)
    body = second.content.decode()
    assert 'data-testid="statuses"' in body and 'data-testid="top-growers"' in body
    section = re.compile(r'<section class="card" aria-labelledby="status-title".*?</section>', re.S)
    assert section.search(first.content.decode()).group() == section.search(body).group()


def test_an_intake_shows_at_once(acme, django_capture_on_commit_callbacks):
    client = acme.client("Clerk")
    with acme, django_capture_on_commit_callbacks(execute=True):
        BatchFactory()
        refresh_intake_view()
    before = todays_batches(client.get("/").content.decode())

    with acme, django_capture_on_commit_callbacks(execute=True):
        BatchFactory()
        refresh_intake_view()

    assert todays_batches(client.get("/").content.decode()) == before + 1


def test_each_role_gets_its_own_sections_from_the_cache(acme):
    manager, clerk = acme.client("Manager"), acme.client("Clerk")
    manager.get("/")

    clerks_page = clerk.get("/").content.decode()

    # The clerk may not read the reconciliation (its section is the manager's, cached first).
    assert 'data-testid="flagged"' not in clerks_page
    assert 'data-testid="flagged"' in manager.get("/").content.decode()


def test_the_user_and_the_form_token_are_never_cached(acme):
    manager, finance = acme.client("Manager"), acme.client("Finance")
    manager.get("/")

    page = finance.get("/").content.decode()

    assert "finance@acme.test" in page and "manager@acme.test" not in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_new_number_format_shows_at_once(acme, committed):
    client = acme.client("Manager")
    with acme, committed():
        BatchFactory(gross_weight_kg=Decimal("5000.50"), tare_weight_kg=Decimal("1500"))
        refresh_intake_view()
    assert "3\u00a0500,50" in client.get("/").content.decode()

    with schema_context(get_public_schema_name()):
        company = Company.objects.get(schema_name="acme")
    with committed():
        company_services.update_company_settings(company, locale="en-US")

    assert "3,500.50" in client.get("/").content.decode()
