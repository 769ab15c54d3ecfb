"""Reversing a payment: never an edit, an opposite adjustment linked to it, once, with a reason."""

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core.errors import Conflict
from core.tenancy import company_today
from core.tests.helpers import finish, start_in_thread
from growers.tests.factories import GrowerFactory
from payments import services
from payments.models import GrowerPayment

pytestmark = pytest.mark.django_db


def pay(grower, amount="1500.00", reference="EFT-1", payment_type="advance"):
    return services.record_payment(grower=grower, payment_type=payment_type, amount=Decimal(amount),
                                   reference=reference, paid_date=company_today() - dt.timedelta(days=2))


@pytest.fixture
def payment(acme):
    with acme:
        return pay(GrowerFactory(code="G0042"))


def count(acme):
    with acme:
        return GrowerPayment.objects.count()


# --- The service -----------------------------------------------------------------------------------------------------


def test_a_reversal_is_the_opposite_adjustment_linked_to_the_original(acme, payment):
    with acme:
        reversal = services.reverse_payment(payment, reason="Paid to the wrong grower", by=acme.user("Finance"))
        payment.refresh_from_db()
        assert payment.reversal == reversal
    assert (reversal.payment_type, reversal.amount, reversal.grower_id) == ("adjustment", Decimal("-1500.00"),
                                                                            payment.grower_id)
    assert (reversal.reverses_id, reversal.reference, reversal.paid_date) == (payment.pk, "REV-EFT-1",
                                                                              company_today())
    assert reversal.notes == "Reverses EFT-1: Paid to the wrong grower"
    assert payment.amount == Decimal("1500.00")  # the original is never changed


def test_reversing_twice_is_refused(acme, payment):
    with acme:
        services.reverse_payment(payment, reason="wrong grower")
        with pytest.raises(Conflict, match="already reversed by REV-EFT-1"):
            services.reverse_payment(payment, reason="again")
    assert count(acme) == 2


def test_a_reversal_cannot_be_reversed(acme, payment):
    with acme:
        reversal = services.reverse_payment(payment, reason="wrong grower")
        with pytest.raises(ValidationError, match="itself a reversal"):
            services.reverse_payment(reversal, reason="undo the undo")
    assert count(acme) == 2


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(acme, payment, reason):
    with acme, pytest.raises(ValidationError) as refused:
        services.reverse_payment(payment, reason=reason)
    assert set(refused.value.message_dict) == {"reason"}
    assert count(acme) == 1


def test_a_negative_adjustment_reverses_to_a_positive_one(acme):
    with acme:
        adjustment = pay(GrowerFactory(), amount="-250.00", reference="ADJ-1", payment_type="adjustment")
        reversal = services.reverse_payment(adjustment, reason="Charged twice")
    assert reversal.amount == Decimal("250.00")


@pytest.mark.parametrize(("amount", "grower_is_other", "reverses_reversal"), [
    ("-1000.00", False, False),  # not the opposite amount
    ("-1500.00", True, False),  # another grower
    ("1500.00", False, True),  # a reversal of a reversal
])
def test_the_database_refuses_a_reversal_that_does_not_match(acme, payment, amount, grower_is_other,
                                                             reverses_reversal):
    with acme:
        target = services.reverse_payment(payment, reason="r") if reverses_reversal else payment
        grower = GrowerFactory() if grower_is_other else payment.grower
        with pytest.raises(IntegrityError, match="reversal"), transaction.atomic():
            GrowerPayment.objects.create(grower=grower, payment_type="adjustment", amount=Decimal(amount),
                                         reference="BYPASS", paid_date=company_today(), reverses=target)


def test_the_database_refuses_a_second_reversal_and_a_reversal_of_another_type(acme, payment):
    with acme:
        services.reverse_payment(payment, reason="r")
        with pytest.raises(IntegrityError), transaction.atomic():
            GrowerPayment.objects.create(grower=payment.grower, payment_type="adjustment", amount=Decimal("-1500"),
                                         reference="BYPASS-2", paid_date=company_today(), reverses=payment)
        other = pay(payment.grower, reference="EFT-2")
        with pytest.raises(IntegrityError), transaction.atomic():
            GrowerPayment.objects.create(grower=payment.grower, payment_type="advance", amount=Decimal("1500"),
                                         reference="BYPASS-3", paid_date=company_today(), reverses=other)


def test_payments_stay_append_only(acme, payment):
    with acme:
        services.reverse_payment(payment, reason="r")
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            GrowerPayment.objects.filter(pk=payment.pk).update(notes="changed")


def test_the_balance_statement_and_reconciliation_count_the_reversal(acme, payment):
    from reconciliation.report import grower_statement, reconcile

    today = company_today()
    start = today - dt.timedelta(days=30)
    with acme:
        before = grower_statement(payment.grower, start, today)
        services.reverse_payment(payment, reason="Paid to the wrong grower")
        after = grower_statement(payment.grower, start, today)
        totals = reconcile(start, today, grower=payment.grower).totals
    assert (before.period_paid, after.period_paid) == (Decimal("1500.00"), Decimal("0.00"))
    assert after.closing_balance == before.closing_balance + Decimal("1500.00")
    assert (totals.paid_advance, totals.paid_adjustment, totals.total_paid) == (
        Decimal("1500.00"), Decimal("-1500.00"), Decimal("0.00"))


# --- Two finance users at once -----------------------------------------------------------------------------------


@pytest.fixture
def committed_payment(acme):
    """A payment committed, so that other connections see it; removed afterwards."""
    made = finish(*start_in_thread(acme.company, lambda: pay(GrowerFactory(code="GRACE"), reference="EFT-RACE")))
    assert "error" not in made, made
    yield made["value"]

    def cleanup():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE grower_payments, growers RESTART IDENTITY CASCADE")

    finish(*start_in_thread(acme.company, cleanup))


def test_two_finance_users_reverse_at_once_and_one_reversal_is_made(acme, committed_payment):
    go = threading.Barrier(2)

    def reverse():
        go.wait(10)
        return services.reverse_payment(committed_payment, reason="race")

    runs = [start_in_thread(acme.company, reverse) for _ in range(2)]
    outcomes = [finish(*run) for run in runs]

    won = [o for o in outcomes if "value" in o]
    lost = [o for o in outcomes if "error" in o]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0]["error"], Conflict)
    reversals = finish(*start_in_thread(acme.company, lambda: list(
        GrowerPayment.objects.filter(reverses=committed_payment.pk).values_list("amount", flat=True))))
    assert reversals["value"] == [Decimal("-1500.00")]


# --- The page ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Finance", "Manager"])
def test_finance_and_managers_reverse_on_the_page_and_both_show_the_link(acme, payment, role):
    client = acme.client(role)
    assert "Reverse payment" in client.get(f"/payments/{payment.pk}/").content.decode()

    response = client.post(f"/payments/{payment.pk}/reverse/", {"reason": "Paid to the wrong grower"}, follow=True)

    html = response.content.decode()
    assert "EFT-1 reversed by REV-EFT-1." in html
    assert re.search(r"Reversed by <a href=\"/payments/\d+/\">REV-EFT-1</a>", html)
    assert "Reverse payment" not in html  # once
    with acme:
        reversal = GrowerPayment.objects.get(reverses=payment)
    html = client.get(f"/payments/{reversal.pk}/").content.decode()
    assert f'Reverses <a href="/payments/{payment.pk}/">EFT-1</a>' in html
    assert "Paid to the wrong grower" in html
    assert "Reverse payment" not in html  # a reversal is not reversed


def test_the_page_refuses_without_a_reason_and_records_nothing(acme, payment):
    response = acme.client("Finance").post(f"/payments/{payment.pk}/reverse/", {"reason": " "})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert count(acme) == 1


def test_the_page_says_when_it_was_reversed_already(acme, payment):
    with acme:
        services.reverse_payment(payment, reason="first")

    response = acme.client("Manager").post(f"/payments/{payment.pk}/reverse/", {"reason": "second"})

    assert "already reversed by REV-EFT-1" in response.content.decode()
    assert count(acme) == 2


def test_a_clerk_may_not_see_or_reverse_a_payment(acme, payment):
    client = acme.client("Clerk")

    assert client.get(f"/payments/{payment.pk}/").status_code == 403
    assert client.post(f"/payments/{payment.pk}/reverse/", {"reason": "r"}).status_code == 403
    assert count(acme) == 1


def test_anonymous_is_sent_to_login(acme, payment):
    response = acme.client().post(f"/payments/{payment.pk}/reverse/", {"reason": "r"})

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert count(acme) == 1


def test_the_other_company_finds_no_such_payment(acme, globex, payment):
    client = globex.client("Finance")

    assert client.get(f"/payments/{payment.pk}/").status_code == 404
    assert client.post(f"/payments/{payment.pk}/reverse/", {"reason": "r"}).status_code == 404
    assert count(acme) == 1


# --- The API -------------------------------------------------------------------------------------------------------


def test_the_api_reverses_once(acme, payment):
    client = acme.api_client("Finance")

    response = client.post(f"/api/payments/{payment.pk}/reverse/", {"reason": "Wrong grower"}, format="json")

    assert response.status_code == 201
    assert (response.json()["amount"], response.json()["reverses"]) == ("-1500.00", payment.pk)
    original = client.get(f"/api/payments/{payment.pk}/").json()
    assert original["reversed_by"] == response.json()["id"]
    again = client.post(f"/api/payments/{payment.pk}/reverse/", {"reason": "Again"}, format="json")
    assert again.status_code == 409
    assert "already_reversed" in again.content.decode()
    assert count(acme) == 2


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 2001}])
def test_the_api_needs_a_reason(acme, payment, body):
    response = acme.api_client("Manager").post(f"/api/payments/{payment.pk}/reverse/", body, format="json")

    assert response.status_code == 400
    assert "reason" in response.content.decode()
    assert count(acme) == 1


def test_the_api_refuses_a_clerk_anonymous_and_the_other_company(acme, globex, payment):
    path = f"/api/payments/{payment.pk}/reverse/"
    assert acme.api_client("Clerk").post(path, {"reason": "r"}, format="json").status_code == 403
    assert acme.api_client().post(path, {"reason": "r"}, format="json").status_code == 401
    assert globex.api_client("Finance").post(path, {"reason": "r"}, format="json").status_code == 404
    assert count(acme) == 1


# --- The admin -----------------------------------------------------------------------------------------------------


def test_the_admin_action_asks_for_a_reason_and_reverses_through_the_service(acme, payment):
    client = acme.client("Manager")
    changelist = "/admin/payments/growerpayment/"
    chosen = {"action": "reverse_selected", "_selected_action": [str(payment.pk)]}

    asked = client.post(changelist, chosen)
    assert asked.status_code == 200 and "Reason for reversing" in asked.content.decode()
    assert count(acme) == 1

    done = client.post(changelist, {**chosen, "apply": "1", "reason": "Wrong grower"}, follow=True)

    assert "EFT-1 reversed by REV-EFT-1." in done.content.decode()
    with acme:
        assert GrowerPayment.objects.get(reverses=payment).notes == "Reverses EFT-1: Wrong grower"
