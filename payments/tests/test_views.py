import re
from decimal import Decimal

import pytest

from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from payments.models import GrowerPayment

pytestmark = pytest.mark.django_db


@pytest.fixture
def grower(acme):
    with acme:
        return GrowerFactory(code="G0042")


def payment_form(client, **overrides):
    """The form as the browser got it, with its one-time key, filled in."""
    html = client.get("/payments/new/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    data = {"grower": "G0042", "payment_type": "advance", "amount": "1500.00", "reference": "EFT-9",
            "paid_date": company_today().isoformat(), "notes": "", "idempotency_key": key}
    data.update(overrides)
    return data


def test_finance_records_a_payment(acme, grower):
    client = acme.client("Finance")

    response = client.post("/payments/new/", payment_form(client), follow=True)

    html = response.content.decode()
    assert "Payment EFT-9 recorded." in html
    assert "EFT-9" in html.split("<tbody>")[1]
    with acme:
        payment = GrowerPayment.objects.get()
    assert (payment.amount, payment.created_by.email) == (Decimal("1500.00"), "finance@acme.test")


def test_pressing_save_twice_records_one_payment(acme, grower):
    client = acme.client("Finance")
    form = payment_form(client)

    client.post("/payments/new/", form)
    again = client.post("/payments/new/", form, follow=True)

    assert "was already recorded; nothing was added" in again.content.decode()
    with acme:
        assert GrowerPayment.objects.count() == 1


def test_a_new_form_is_a_new_payment(acme, grower):
    client = acme.client("Finance")
    client.post("/payments/new/", payment_form(client))

    response = client.post("/payments/new/", payment_form(client, reference="EFT-10"))

    assert response.status_code == 302
    with acme:
        assert GrowerPayment.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reference": "EFT-1"}, "reference", "already used"),
        ({"amount": "-5"}, "amount", "positive amount"),
        ({"amount": "abc"}, "amount", "is not a number"),
        ({"payment_type": "adjustment", "amount": "0"}, "amount", "cannot be zero"),
        ({"paid_date": "2999-12-31"}, "paid_date", "cannot be in the future"),
        ({"grower": "NOPE"}, "grower", "No grower has the code or name “NOPE”"),
    ],
)
def test_bad_payment_shows_the_error_beside_the_field(acme, grower, overrides, field, message):
    with acme:
        from payments import services

        services.record_payment(grower=grower, payment_type="final", amount=Decimal("1"), reference="EFT-1",
                                paid_date=company_today())
    client = acme.client("Finance")

    response = client.post("/payments/new/", payment_form(client, **overrides))

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    with acme:
        assert GrowerPayment.objects.count() == 1


def test_payment_list_filters(acme, grower):
    with acme:
        other = GrowerFactory(code="G0099")
        from payments import services

        for code, who, kind in (("A-1", grower, "advance"), ("F-1", grower, "final"), ("D-1", other, "deduction")):
            services.record_payment(grower=who, payment_type=kind, amount=Decimal("5"), reference=code,
                                    paid_date=company_today())
    client = acme.client("Finance")

    by_grower = client.get("/payments/?grower_code=G0042").content.decode().split("<tbody>")[1]
    by_type = client.get("/payments/?payment_type=deduction").content.decode().split("<tbody>")[1]

    assert "A-1" in by_grower and "F-1" in by_grower and "D-1" not in by_grower
    assert "D-1" in by_type and "A-1" not in by_type
