import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.errors import Conflict
from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from payments import services
from payments.models import GrowerPayment, PriceAgreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_acme(acme):
    with acme:
        yield acme


def pay(grower, **overrides):
    values = {"payment_type": "advance", "amount": Decimal("1000.00"), "reference": "EFT-0001",
              "paid_date": company_today()}
    values.update(overrides)
    return services.record_payment(grower=grower, **values)


def pay_once(grower, key, **overrides):
    values = {"payment_type": "advance", "amount": Decimal("1000.00"), "reference": "EFT-0001",
              "paid_date": company_today()}
    values.update(overrides)
    return services.record_payment_once(key, grower=grower, **values)


def test_payment_is_recorded(in_acme):
    finance = in_acme.user("Finance")
    grower = GrowerFactory()

    payment = pay(grower, by=finance, notes="first advance")

    assert payment.pk is not None
    assert (payment.grower, payment.amount, payment.created_by) == (grower, Decimal("1000.00"), finance)


def test_repeated_idempotency_key_returns_the_first_payment(in_acme):
    grower = GrowerFactory()

    first, created_first = pay_once(grower, "key-1")
    again, created_again = pay_once(grower, "key-1")

    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    assert GrowerPayment.objects.count() == 1


def test_same_key_for_a_different_payment_is_a_conflict(in_acme):
    grower = GrowerFactory()
    pay_once(grower, "key-1")

    with pytest.raises(Conflict, match="another payment"):
        pay_once(grower, "key-1", amount=Decimal("999.00"))

    assert GrowerPayment.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": Decimal("-5.00")}, "amount"),
        ({"amount": Decimal("0")}, "amount"),
        ({"payment_type": "deduction", "amount": Decimal("-10.00")}, "amount"),
        ({"payment_type": "adjustment", "amount": Decimal("0.00")}, "amount"),
        ({"payment_type": "bonus"}, "payment_type"),
        ({"reference": "   "}, "reference"),
        ({"paid_date": dt.date.today() + dt.timedelta(days=5)}, "paid_date"),
        ({"amount": Decimal("1234567890123.00")}, "amount"),
    ],
)
def test_bad_payments_are_refused_and_nothing_is_saved(in_acme, overrides, field):
    with pytest.raises(ValidationError) as refused:
        pay(GrowerFactory(), **overrides)

    assert field in refused.value.message_dict
    assert not GrowerPayment.objects.exists()


def test_negative_adjustment_is_allowed(in_acme):
    payment = pay(GrowerFactory(), payment_type="adjustment", amount=Decimal("-250.00"))

    assert payment.amount == Decimal("-250.00")


def test_references_are_unique(in_acme):
    grower = GrowerFactory()
    pay(grower)

    with pytest.raises(ValidationError, match="already used"):
        pay(grower, amount=Decimal("5.00"))


def test_payments_are_immutable_in_the_database(in_acme):
    payment = pay(GrowerFactory())

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        GrowerPayment.objects.filter(pk=payment.pk).update(amount=Decimal("1.00"))
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        GrowerPayment.objects.filter(pk=payment.pk).delete()

    payment.refresh_from_db()
    assert payment.amount == Decimal("1000.00")


# --- price agreements ----------------------------------------------------------------


def agreement(**overrides):
    values = {"fruit_type": "apple", "grade": "class1", "valid_from": dt.date(2026, 1, 1),
              "valid_to": dt.date(2026, 6, 30), "price_per_kg": Decimal("5.2500")}
    values.update(overrides)
    return services.create_price_agreement(**values)


@pytest.mark.parametrize(
    ("valid_from", "valid_to"),
    [
        (dt.date(2026, 6, 30), dt.date(2026, 12, 31)),  # shares the last day
        (dt.date(2025, 12, 1), dt.date(2026, 1, 1)),  # shares the first day
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),  # inside
        (dt.date(2025, 1, 1), None),  # open-ended, covers it
    ],
)
def test_overlapping_agreements_are_refused(in_acme, valid_from, valid_to):
    agreement()

    with pytest.raises(ValidationError, match="overlaps"):
        agreement(valid_from=valid_from, valid_to=valid_to, price_per_kg=Decimal("6"))

    assert PriceAgreement.objects.count() == 1


def test_adjacent_and_differing_agreements_are_fine(in_acme):
    agreement()

    agreement(valid_from=dt.date(2026, 7, 1), valid_to=None)  # the next period
    agreement(variety="Gala")  # a variety-specific price beside the any-variety one
    agreement(grade="class2")
    agreement(fruit_type="pear")

    assert PriceAgreement.objects.count() == 5


def test_the_database_refuses_overlaps_even_past_the_service(in_acme):
    agreement()

    with pytest.raises(IntegrityError), transaction.atomic():
        PriceAgreement.objects.create(fruit_type="apple", grade="class1", valid_from=dt.date(2026, 2, 1),
                                      price_per_kg=Decimal("1"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"price_per_kg": Decimal("0")}, "more than zero"),
        ({"valid_to": dt.date(2025, 12, 31)}, "cannot end before it starts"),
        ({"grade": "class9"}, "not a valid choice"),
    ],
)
def test_bad_agreements_are_refused(in_acme, overrides, message):
    with pytest.raises(ValidationError, match=message) as refused:
        agreement(**overrides)

    assert set(refused.value.message_dict) & {"price_per_kg", "valid_to", "grade"}


def test_ending_an_agreement_and_overlap_on_update(in_acme):
    first = agreement(valid_to=None)
    services.update_price_agreement(first, valid_to=dt.date(2026, 3, 31))
    agreement(valid_from=dt.date(2026, 4, 1), valid_to=None)

    with pytest.raises(ValidationError, match="overlaps"):
        services.update_price_agreement(first, valid_to=dt.date(2026, 4, 15))
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.update_price_agreement(first, fruit_type="pear")
