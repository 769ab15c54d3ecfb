"""Payments are immutable in the database itself: raw SQL, not only the ORM and the API, is refused."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from payments import services
from payments.models import GrowerPayment

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(acme):
    with acme:
        payment = services.record_payment(
            grower=GrowerFactory(), payment_type="final", amount=Decimal("900.00"), reference="EFT-RAW",
            paid_date=company_today(),
        )
        yield payment


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE grower_payments SET amount = 1 WHERE id = %s",
        "UPDATE grower_payments SET reference = 'EFT-CHANGED' WHERE id = %s",
        "UPDATE grower_payments SET notes = notes WHERE id = %s",  # even a no-op update
        "DELETE FROM grower_payments WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_or_delete_a_payment(payment, statement):
    with pytest.raises(IntegrityError, match="grower_payments rows are append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, [payment.pk])

    payment.refresh_from_db()
    assert (payment.amount, payment.reference) == (Decimal("900.00"), "EFT-RAW")


def test_deleting_the_grower_cannot_cascade_into_payments(payment):
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            # Django's foreign keys are deferred; check now, as a commit would.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("DELETE FROM growers WHERE id = %s", [payment.grower_id])

    assert GrowerPayment.objects.filter(pk=payment.pk).exists()


def test_new_payments_are_still_accepted(payment):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO grower_payments (grower_id, payment_type, amount, reference, paid_date, notes, created_at) "
            "VALUES (%s, 'adjustment', -5, 'EFT-RAW-2', current_date, '', now())", [payment.grower_id],
        )

    assert GrowerPayment.objects.filter(grower=payment.grower_id).count() == 2
