"""A NUL byte anywhere in the query string is a 400 before any view (issue 14, item 6).

PostgreSQL cannot compare text with NUL in it: the admin's list filters answered 500.
"""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "/admin/batches/batch/?status__exact=%00",
    "/admin/growers/grower/?region=%00",
    "/admin/packhouses/packhouse/?region=%00",
    "/admin/payments/growerpayment/?payment_type__exact=%00",
])
def test_a_nul_in_a_company_admin_filter_is_a_400_page(acme, url):
    response = acme.client("Manager").get(url)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Bad request" in response.text and "Traceback" not in response.text


def test_a_nul_in_the_platform_admins_filter_is_a_400(db):
    with schema_context("public"):
        staff = User.objects.create_superuser(email="platform@localhost.test", password="x" * 12)
        client = Client(HTTP_HOST="localhost")
        client.force_login(staff)

    response = client.get("/admin/tenants/company/?currency=%00")

    assert response.status_code == 400
    assert "Bad request" in response.text


@pytest.mark.parametrize("query", ["status=%00", "grower_code=A%00B", "%00=1", "q=ok&variety=x%00"])
def test_a_nul_in_an_api_list_query_is_a_json_400(acme, query):
    response = acme.api_client("Clerk").get(f"/api/batches/?{query}")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The query string contains a NUL byte (%00), which no parameter may hold.", "code": "invalid",
    }


def test_a_nul_is_refused_before_the_host_is_looked_at(db):
    # Even on a host that serves no company, so no view (not even the unknown-host page) sees it.
    response = Client(HTTP_HOST="nobody.localhost").get("/?x=%00")

    assert response.status_code == 400


def test_a_query_without_nul_is_untouched(acme):
    assert acme.api_client("Clerk").get("/api/batches/?status=received").status_code == 200
