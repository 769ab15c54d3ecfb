import pytest

from core.tenancy import company_today
from growers.tests.factories import GrowerFactory
from payments.models import GrowerPayment

pytestmark = pytest.mark.django_db


@pytest.fixture
def grower(acme):
    with acme:
        return GrowerFactory()


def body(who, **overrides):
    values = {"grower": who.pk, "payment_type": "advance", "amount": "1500.00", "reference": "EFT-100",
              "paid_date": str(company_today())}
    values.update(overrides)
    return values


def test_finance_records_a_payment(acme, grower):
    response = acme.api_client("Finance").post("/api/payments/", body(grower, notes="Week 3"), format="json")

    assert response.status_code == 201
    payment = response.json()
    assert (payment["amount"], payment["created_by"], payment["grower"]["id"]) == (
        "1500.00", "finance@acme.test", grower.pk,
    )


def test_idempotency_key_replay_returns_the_first_payment(acme, grower):
    api = acme.api_client("Finance")

    first = api.post("/api/payments/", body(grower), format="json", HTTP_IDEMPOTENCY_KEY="abc-123")
    again = api.post("/api/payments/", body(grower), format="json", HTTP_IDEMPOTENCY_KEY="abc-123")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    with acme:
        assert GrowerPayment.objects.count() == 1


def test_idempotency_key_with_a_different_payment_is_409(acme, grower):
    api = acme.api_client("Finance")
    api.post("/api/payments/", body(grower), format="json", HTTP_IDEMPOTENCY_KEY="abc-123")

    response = api.post("/api/payments/", body(grower, amount="99.00"), format="json", HTTP_IDEMPOTENCY_KEY="abc-123")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


def test_overlong_idempotency_key_is_400(acme, grower):
    response = acme.api_client("Finance").post(
        "/api/payments/", body(grower), format="json", HTTP_IDEMPOTENCY_KEY="k" * 129,
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_without_a_key_a_repeated_reference_is_400(acme, grower):
    api = acme.api_client("Finance")
    api.post("/api/payments/", body(grower), format="json")

    response = api.post("/api/payments/", body(grower), format="json")

    assert response.status_code == 400
    assert "already used" in response.json()["errors"]["reference"][0]
    with acme:
        assert GrowerPayment.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"amount": "-10.00"}, "amount"), ({"amount": "0"}, "amount"), ({"amount": "1.001"}, "amount"),
     ({"amount": "NaN"}, "amount"), ({"payment_type": "gift"}, "payment_type"), ({"paid_date": "2999-01-01"},
                                                                                  "paid_date"),
     ({"reference": ""}, "reference"), ({"grower": 0}, "grower")],
)
def test_bad_payment_is_400(acme, grower, overrides, field):
    response = acme.api_client("Finance").post("/api/payments/", body(grower, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_adjustment_may_be_negative(acme, grower):
    response = acme.api_client("Finance").post(
        "/api/payments/", body(grower, payment_type="adjustment", amount="-120.00"), format="json",
    )

    assert response.status_code == 201
    assert response.json()["amount"] == "-120.00"


def test_overlapping_price_is_400(acme):
    api = acme.api_client("Finance")
    price = {"fruit_type": "apple", "grade": "class1", "valid_from": "2026-01-01", "price_per_kg": "5.0000"}
    assert api.post("/api/prices/", price, format="json").status_code == 201

    response = api.post("/api/prices/", {**price, "valid_from": "2026-03-01"}, format="json")

    assert response.status_code == 400
    assert "overlaps" in response.json()["errors"]["non_field_errors"][0]


def test_price_what_and_when_are_fixed(acme):
    api = acme.api_client("Finance")
    made = api.post("/api/prices/", {"fruit_type": "apple", "grade": "class1", "valid_from": "2026-01-01",
                                     "price_per_kg": "5.0000"}, format="json").json()

    refused = api.patch(f"/api/prices/{made['id']}/", {"fruit_type": "pear", "grade": "class2", "variety": "Fuji",
                                                         "valid_from": "2026-02-01", "valid_to": "2026-05-31"},
                        format="json")
    assert refused.status_code == 400
    assert sorted(refused.json()["errors"]) == ["fruit_type", "grade", "valid_from", "variety"]

    response = api.patch(f"/api/prices/{made['id']}/", {"valid_to": "2026-05-31"}, format="json")
    assert response.status_code == 200
    assert (response.json()["fruit_type"], response.json()["valid_to"]) == ("apple", "2026-05-31")
