"""Large payments: a confirmation step above the company's confirmation amount, a refusal above its maximum."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from payments import services
from payments.models import GrowerPayment

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def grower(acme):
    with acme:
        return GrowerFactory(code="G0042", name="Oak Valley")


def payment_form(client, **overrides):
    html = client.get("/payments/new/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    data = {"grower": "G0042", "payment_type": "advance", "amount": "1500.00", "reference": "EFT-9",
            "paid_date": company_today().isoformat(), "notes": "", "idempotency_key": key}
    data.update(overrides)
    return data


def confirmation_of(html):
    """What the confirm page posts back: its hidden fields."""
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


def test_a_decimal_comma_amount_is_that_amount(acme, grower):
    client = acme.client("Finance")

    client.post("/payments/new/", payment_form(client, amount="12,50"))

    with acme:
        assert GrowerPayment.objects.get().amount == Decimal("12.50")


def test_an_amount_up_to_the_confirmation_amount_is_recorded_at_once(acme, grower):
    client = acme.client("Finance")

    response = client.post("/payments/new/", payment_form(client, amount="500 000,00"))

    assert response.status_code == 302
    with acme:
        assert GrowerPayment.objects.get().amount == Decimal("500000.00")


def test_a_larger_amount_is_read_back_before_it_is_recorded(acme, grower):
    client = acme.client("Finance")

    page = client.post("/payments/new/", payment_form(client, amount="750000")).content.decode()

    assert "Confirm this payment" in page
    assert "G0042 Oak Valley" in page and "Advance" in page and f"ZAR 750{NBSP}000,00" in page
    with acme:
        assert not GrowerPayment.objects.exists()

    confirmed = client.post("/payments/new/", confirmation_of(page), follow=True)

    assert "Payment EFT-9 recorded." in confirmed.content.decode()
    with acme:
        assert GrowerPayment.objects.get().amount == Decimal("750000.00")


def test_a_confirmation_does_not_carry_over_to_another_amount(acme, grower):
    client = acme.client("Finance")
    page = client.post("/payments/new/", payment_form(client, amount="750000")).content.decode()
    changed = {**confirmation_of(page), "amount": "7500000"}

    again = client.post("/payments/new/", changed).content.decode()

    assert "Confirm this payment" in again and f"ZAR 7{NBSP}500{NBSP}000,00" in again
    with acme:
        assert not GrowerPayment.objects.exists()


def test_change_goes_back_to_the_filled_in_form(acme, grower):
    client = acme.client("Finance")
    page = client.post("/payments/new/", payment_form(client, amount="750000")).content.decode()

    back = client.post("/payments/new/", {**confirmation_of(page), "change": ""}).content.decode()

    assert "Record payment" in back and 'value="750000"' in back
    with acme:
        assert not GrowerPayment.objects.exists()


def test_above_the_maximum_the_form_refuses_it(acme, grower):
    client = acme.client("Finance")

    html = client.post("/payments/new/", payment_form(client, amount="123456789012,99")).content.decode()

    assert f"ZAR 123{NBSP}456{NBSP}789{NBSP}012,99 is above the company&#x27;s largest payment, " \
           f"ZAR 50{NBSP}000{NBSP}000,00" in html
    with acme:
        assert not GrowerPayment.objects.exists()


def test_above_the_maximum_the_api_refuses_it_naming_the_amount(acme, grower):
    body = {"grower": grower.pk, "payment_type": "advance", "amount": "50000000.01", "reference": "EFT-100",
            "paid_date": str(company_today())}

    response = acme.api_client("Finance").post("/api/payments/", body, format="json")

    assert response.status_code == 400
    assert "largest payment" in str(response.json()["errors"]["amount"])


def test_a_negative_adjustment_is_held_to_the_same_maximum(acme, grower):
    with acme, pytest.raises(ValidationError) as refused:
        services.record_payment(grower=grower, payment_type="adjustment", amount=Decimal("-50000000.01"),
                                reference="ADJ-1", paid_date=company_today())

    assert "largest payment" in refused.value.message_dict["amount"][0]
