"""Cache-Control: no-store, private on every page, export and API answer (issue 14, item 7).

Pages with money or people on them carried no Cache-Control, so a shared weighbridge PC kept them
after logout. The rule (docs/SECURITY.md, "Caching"): everything the app answers gets it; static
files and /health keep their own caching.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.tenancy import company_today

pytestmark = pytest.mark.django_db


def no_store(response):
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_every_page_and_export_with_money_or_people_is_not_stored(acme, batch_with_payment):
    grower = batch_with_payment.grower
    today = company_today().isoformat()
    period = f"from={today}&to={today}"
    client = acme.client("Manager")
    urls = [
        "/",
        f"/reconciliation/?{period}",
        f"/reconciliation/?{period}&format=csv",
        f"/reconciliation/growers/{grower.pk}/statement/?{period}",
        f"/reconciliation/growers/{grower.pk}/statement/?{period}&format=csv",
        "/payments/",
        "/growers/",
        f"/growers/{grower.pk}/",
        "/batches/",
        "/batches/export.csv",
        f"/batches/{batch_with_payment.pk}/",
        f"/batches/{batch_with_payment.pk}/docket/",
        "/admin/payments/growerpayment/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert no_store(response), (url, response.get("Cache-Control"))


def test_every_api_answer_is_not_stored(acme, batch_with_payment):
    client = acme.api_client("Manager")
    for url in ["/api/payments/", "/api/reconciliation/", "/api/prices/", "/api/growers/", "/api/batches/",
                "/api/intake/daily/", f"/api/growers/{batch_with_payment.grower_id}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert no_store(response), (url, response.get("Cache-Control"))
    # Refusals too: they say which objects exist.
    assert no_store(acme.api_client("Clerk").get("/api/payments/"))


def test_a_page_answered_by_the_fast_path_carries_it_too(acme, batch_with_payment):
    client = acme.api_client("Manager")
    first = client.get("/api/growers/")
    with CaptureQueriesContext(connection) as captured:
        again = client.get("/api/growers/")

    assert captured.captured_queries == []  # answered from Redis, above the middleware that sets the header
    assert again.content == first.content
    assert no_store(first) and no_store(again)


def test_login_page_is_not_stored_either(acme):
    assert no_store(acme.client().get("/login/"))


def test_static_files_and_health_keep_their_caching(acme, client):
    static = client.get("/static/css/app.css", HTTP_HOST=acme.host)
    health = client.get("/health", HTTP_HOST=acme.host)

    assert static.status_code == 200 and not no_store(static)
    assert health.status_code == 200 and "no-store" not in health.get("Cache-Control", "")
