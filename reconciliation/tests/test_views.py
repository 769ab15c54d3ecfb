"""The reconciliation page, the grower statement page and the dashboard (HTML and CSV)."""

import re

import pytest

from batches.tests.factories import BatchFactory
from growers.models import Grower

pytestmark = pytest.mark.django_db

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.mark.parametrize(("role", "status"), [("Finance", 200), ("Manager", 200), ("Clerk", 403)])
def test_report_page_by_role(acme, march, role, status):
    assert acme.client(role).get(f"/reconciliation/?{MARCH}").status_code == status


def test_report_page_shows_the_worked_numbers_and_highlights_flagged_rows(acme, march):
    html = acme.client("Finance").get(f"/reconciliation/?{MARCH}&threshold=500").content.decode()

    ga01 = html.split("GA01", 1)[1].split("</tr>", 1)[0]
    # value and balance, worked out in conftest, as en-ZA writes them
    assert "56\u00a0800,00" in ga01 and "27\u00a0300,00" in ga01
    assert html.split("GA01", 1)[0].rsplit("<tr", 1)[1].startswith(' class="flagged"')
    gb01_row = html.split("GB01", 1)[0].rsplit("<tr", 1)[1]
    assert "flagged" not in gb01_row  # a balance of 100.00 is inside 500


def test_report_csv_is_the_same_report(acme, march):
    response = acme.client("Finance").get(f"/reconciliation/?{MARCH}&format=csv")

    body = b"".join(response.streaming_content).decode()
    assert response["Content-Disposition"].startswith('attachment; filename="reconciliation_20260301_20260331')
    assert "GA01" in body and "56800.00" in body and body.splitlines()[-1].startswith("Total")


def test_a_bad_period_is_a_form_error(acme, march):
    response = acme.client("Finance").get("/reconciliation/?from=2026-04-01&to=2026-03-01")

    assert response.status_code == 400
    assert "before it starts" in response.content.decode()
    assert response.context["report"] is None


def test_statement_page_and_csv(acme, march):
    with acme:
        grower = Grower.objects.get(code="GA01")
    client = acme.client("Finance")

    html = client.get(f"/reconciliation/growers/{grower.pk}/statement/?{MARCH}").content.decode()
    csv_body = b"".join(
        client.get(f"/reconciliation/growers/{grower.pk}/statement/?{MARCH}&format=csv").streaming_content
    ).decode()

    # 17,500 delivered in February - 10,000 advanced
    assert re.search('data-testid="opening-balance"><span class="balance-word">Owed to grower</span>'
                     '\\s*7\u00a0500,00<', html)
    assert 'data-testid="closing-balance">' in html
    assert csv_body.splitlines()[0].startswith("Date,Type,Reference")
    assert "Closing balance due" in csv_body


def test_statement_of_another_companys_grower_is_404(acme, globex, march):
    with acme:
        grower = Grower.objects.get(code="GA01")

    assert globex.client("Finance").get(f"/reconciliation/growers/{grower.pk}/statement/").status_code == 404


def test_anonymous_is_sent_to_login(acme):
    assert acme.client().get("/reconciliation/").status_code == 302


def test_dashboard_shows_today_and_follows_writes(acme, django_capture_on_commit_callbacks):
    from reconciliation.services import refresh_intake_view

    client = acme.client("Manager")
    with acme, django_capture_on_commit_callbacks(execute=True):
        BatchFactory()
        refresh_intake_view()
    first = client.get("/").content.decode()
    with acme, django_capture_on_commit_callbacks(execute=True):
        BatchFactory()
        refresh_intake_view()
    second = client.get("/").content.decode()

    assert 'data-testid="today-batches">1<' in first
    # The intake bumped the batches generation: the next read is not the cached page.
    assert 'data-testid="today-batches">2<' in second
    assert first.count("<rect") == 30


def test_dashboard_follows_the_intake_views_refresh_not_only_the_intake(acme, django_capture_on_commit_callbacks):
    from reconciliation.services import refresh_intake_view

    client = acme.client("Manager")
    with acme, django_capture_on_commit_callbacks(execute=True):
        BatchFactory()  # bumps "batches" at commit; the view is refreshed later
    before_refresh = client.get("/").content.decode()
    with acme, django_capture_on_commit_callbacks(execute=True):
        refresh_intake_view()
    after_refresh = client.get("/").content.decode()

    # today's numbers come from the view: the page cached before the refresh must not outlive it
    assert 'data-testid="today-batches">0<' in before_refresh
    assert 'data-testid="today-batches">1<' in after_refresh


def test_dashboard_hides_reconciliation_from_clerks(acme):
    clerk = acme.client("Clerk").get("/").content.decode()
    finance = acme.client("Finance").get("/").content.decode()

    assert 'data-testid="flagged"' not in clerk
    assert 'data-testid="flagged"' in finance


def test_the_page_takes_the_apis_parameters(acme, march):
    page = acme.client("Finance").get(f"/reconciliation/?{MARCH}&grower=GA01&flagged=true").content.decode()
    api = acme.api_client("Finance").get(f"/api/reconciliation/?{MARCH}&flagged=true").json()

    assert "GA01" in page and "GB01" not in page
    assert any(item["grower"]["code"] == "GA01" for item in api["items"])
