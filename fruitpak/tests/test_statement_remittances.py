"""The grower statement (reconciliation) links the grower's remittance advices (payments)."""

import pytest

from payments import services
from payments.models import RemittanceAdvice
from payments.tests.runs_helpers import approved_run, closed_pool

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(acme):
    with acme:
        run = approved_run(closed_pool(), acme.user("Finance"), acme.user("Manager"))
        return services.post_run(run, by=acme.user("Finance"))[0]


def test_the_statement_links_the_growers_remittance_advices(acme, posted):
    with acme:
        advice = RemittanceAdvice.objects.get(grower__code="GA001")
    html = acme.client("Finance").get(f"/reconciliation/growers/{advice.grower_id}/statement/").content.decode()
    assert f'href="/payments/remittances/{advice.pk}/"' in html and "RA-000001" in html


def test_a_clerk_sees_no_remittance_links(acme, posted):
    with acme:
        advice = RemittanceAdvice.objects.get(grower__code="GA001")
    # Clerks do not read statements at all; a manager does, and sees the links.
    assert acme.client("Clerk").get(f"/reconciliation/growers/{advice.grower_id}/statement/").status_code == 403
