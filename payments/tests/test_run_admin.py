"""The company admin for payment runs and remittance advices: lists, read-only lines, actions through the
services (the preparer is refused approval here too), advices never changed nor deleted."""

from decimal import Decimal as D

import pytest

from core.tests.helpers import queries_for
from payments import services
from payments.models import GrowerPayment, PaymentRun, PaymentRunHistory, RemittanceAdvice, RunStatus

from .runs_helpers import approved_run, closed_pool

pytestmark = pytest.mark.django_db

RUNS = "/admin/payments/paymentrun/"
ADVICES = "/admin/payments/remittanceadvice/"


def draft(acme, by="Finance", code="P-RUN", **pool):
    """A draft run with its negative line decided, so nothing but its preparer stands in the way of approval."""
    with acme:
        run = services.prepare_run(closed_pool(code=code, **pool), by=acme.user(by))
        for line in run.lines.filter(final__lt=0):
            services.decide(run, line, "carry_forward", by=acme.user(by))
        return run


def posted(acme, **pool):
    with acme:
        run = approved_run(closed_pool(**pool), acme.user("Finance"), acme.user("Manager"))
        return services.post_run(run, by=acme.user("Finance"))[0]


def act(client, action, run):
    return client.post(RUNS, {"action": action, "_selected_action": [run.pk]}, follow=True)


def status_of(acme, run):
    with acme:
        return PaymentRun.objects.get(pk=run.pk).status


def test_the_admin_lists_runs_and_advices_in_fixed_queries(acme):
    client = acme.client("Manager")
    first = posted(acme, code="P-A1", fruit_type="pear", variety="V1", growers=("GA1", "GB1"))
    client.get(RUNS)  # warm per-process caches
    few = (queries_for(client, RUNS), queries_for(client, ADVICES))

    for n in range(2, 5):
        posted(acme, code=f"P-A{n}", fruit_type="pear", variety=f"V{n}", growers=(f"GA{n}", f"GB{n}"))
    many = (queries_for(client, RUNS), queries_for(client, ADVICES))

    assert many == few
    assert first.reference in client.get(RUNS).text
    with acme:
        numbers = [advice.display_number for advice in RemittanceAdvice.objects.all()]
    assert len(numbers) == 8 and all(number in client.get(ADVICES).text for number in numbers)


def test_a_runs_page_and_its_lines_are_read_only(acme):
    run = draft(acme)
    client = acme.client("Manager")

    page = client.get(f"{RUNS}{run.pk}/change/")
    assert page.status_code == 200
    assert "GA001" in page.text and "465.00" in page.text  # runs_helpers: GA001's final
    # The lines are shown, not editable: no input for a figure or a decision, and no line may be added.
    assert not any(f'name="lines-0-{field}"' in page.text for field in ("gross", "charges", "final", "decision"))
    assert 'name="status"' not in page.text and 'name="lines-MAX_NUM_FORMS" value="0"' in page.text

    client.post(f"{RUNS}{run.pk}/change/", {"status": "posted", "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "2",
                                            "lines-0-final": "0.00"})
    with acme:
        assert sorted(run.lines.values_list("final", flat=True)) == [D("-435.00"), D("465.00")]
    assert client.get(f"{RUNS}add/").status_code == 403
    assert client.post(f"{RUNS}{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert status_of(acme, run) == RunStatus.DRAFT


def test_the_preparer_may_not_approve_their_own_run_in_the_admin_either(acme):
    run = draft(acme, by="Manager")

    response = act(acme.client("Manager"), "approve_selected", run)

    assert "another Finance user or a Manager approves it" in response.text
    assert status_of(acme, run) == RunStatus.DRAFT


def test_approve_post_and_cancel_go_through_the_services(acme):
    run = draft(acme)
    client = acme.client("Manager")

    assert f"{run.reference} approved." in act(client, "approve_selected", run).text
    assert status_of(acme, run) == RunStatus.APPROVED
    assert f"{run.reference} posted." in act(client, "post_selected", run).text
    with acme:
        assert status_of(acme, run) == RunStatus.POSTED
        # Per grower: a deduction per charge kind (3) and the final (or carried-forward adjustment).
        assert GrowerPayment.objects.filter(reference__startswith=f"PR-{run.pk}-").count() == 8
        assert RemittanceAdvice.objects.filter(run=run).count() == 2
        events = list(PaymentRunHistory.objects.filter(run=run).order_by("id").values_list("event", flat=True))
    assert events[-2:] == ["approved", "posted"]

    # A posted run is history: cancelling it is refused, and posting again writes nothing.
    assert "cancel" in act(client, "cancel_selected", run).text.lower()
    act(client, "post_selected", run)
    assert status_of(acme, run) == RunStatus.POSTED
    with acme:
        assert GrowerPayment.objects.filter(reference__startswith=f"PR-{run.pk}-").count() == 8

    other = draft(acme, code="P-CANCEL", fruit_type="pear", variety="Bosc", growers=("GC003", "GD004"))
    assert f"{other.reference} cancelled." in act(client, "cancel_selected", other).text
    assert status_of(acme, other) == RunStatus.CANCELLED


def test_a_remittance_advice_cannot_be_added_changed_or_deleted(acme):
    run = posted(acme)
    with acme:
        advice = RemittanceAdvice.objects.filter(run=run).order_by("number").first()
        before = (advice.number, advice.final, advice.gross)
    client = acme.client("Manager")

    page = client.get(f"{ADVICES}{advice.pk}/change/")
    assert page.status_code == 200 and advice.display_number in page.text and 'name="final"' not in page.text
    assert client.post(f"{ADVICES}{advice.pk}/change/", {"final": "999999.00"}).status_code == 403
    assert client.get(f"{ADVICES}add/").status_code == 403
    assert client.post(f"{ADVICES}{advice.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post(ADVICES, {"action": "delete_selected", "_selected_action": [advice.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)
    with acme:
        advice.refresh_from_db()
        assert (advice.number, advice.final, advice.gross) == before
        assert RemittanceAdvice.objects.filter(run=run).count() == 2


@pytest.mark.parametrize("role", [None, "Clerk", "Finance"])
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(acme, role):
    run = draft(acme)
    client = acme.client(role)

    for url in (RUNS, f"{RUNS}{run.pk}/change/", ADVICES):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    assert client.post(RUNS, {"action": "cancel_selected", "_selected_action": [run.pk]}).status_code == 302
    assert status_of(acme, run) == RunStatus.DRAFT


def test_the_other_companys_run_is_not_found(acme, globex):
    with globex:
        run = services.prepare_run(closed_pool(code="P-GLOBEX"), by=globex.user("Finance"))
    client = acme.client("Manager")

    response = client.get(f"{RUNS}{run.pk}/change/")
    assert response.status_code in (302, 404)
    assert "P-GLOBEX" not in client.get(RUNS).text
    act(client, "cancel_selected", run)
    with globex:
        assert PaymentRun.objects.get(pk=run.pk).status == RunStatus.DRAFT
