"""The company admin for price agreements and grower payments: writes through the services, payments immutable."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.tenancy import company_today
from core.tests.helpers import form_errors, queries_for
from growers.services import create_grower
from payments import services
from payments.models import OVERLAP_MESSAGE, GrowerPayment, PriceAgreement

pytestmark = pytest.mark.django_db

PRICES = "/admin/payments/priceagreement/"
PAYMENTS = "/admin/payments/growerpayment/"


def change_url(changelist, obj):
    return f"{changelist}{obj.pk}/change/"


def all_messages(errors):
    return " ".join(message for messages in errors.values() for message in messages)


# --- Price agreements ------------------------------------------------------------------------------------------------


def make_agreements(tenant, count, start=0):
    with tenant:
        return [
            services.create_price_agreement(fruit_type="apple", variety=f"V{start + n}", grade="class1",
                                            valid_from=date(2025, 1, 1), price_per_kg=Decimal("10.5000"))
            for n in range(count)
        ]


def agreement_form(**overrides):
    data = {"fruit_type": "apple", "variety": "", "grade": "class1", "valid_from": "2025-01-01", "valid_to": "",
            "price_per_kg": "12.5000", "notes": ""}
    data.update(overrides)
    return data


def test_agreement_changelist_query_count_does_not_grow_with_rows(acme):
    client = acme.client("Manager")
    make_agreements(acme, 3)
    client.get(PRICES)  # warm per-process caches
    few = queries_for(client, PRICES)

    make_agreements(acme, 27, start=3)
    many = queries_for(client, PRICES)

    assert many == few
    assert "V29" in client.get(PRICES).text


def test_agreement_add_and_change_pages_render_for_a_manager(acme):
    [agreement] = make_agreements(acme, 1)
    client = acme.client("Manager")

    assert client.get(PRICES + "add/").status_code == 200
    page = client.get(change_url(PRICES, agreement))
    assert page.status_code == 200
    # What it prices and from when are fixed; the end, price and notes are not.
    assert 'name="fruit_type"' not in page.text and 'name="valid_from"' not in page.text
    assert 'name="price_per_kg"' in page.text and 'name="valid_to"' in page.text


def test_adding_an_agreement_goes_through_the_service(acme):
    response = acme.client("Manager").post(PRICES + "add/", agreement_form(variety=" Fuji "))

    assert response.status_code == 302
    with acme:
        agreement = PriceAgreement.objects.get()
        assert (agreement.variety, agreement.price_per_kg, agreement.valid_to) == ("Fuji", Decimal("12.5"), None)
        assert agreement.created_by == acme.user("Manager")


@pytest.mark.parametrize("overrides, message", [
    ({"valid_from": "2025-03-01"}, OVERLAP_MESSAGE),
    ({"valid_from": "2024-06-01", "valid_to": "2025-01-01"}, OVERLAP_MESSAGE),
    ({"grade": "class2", "price_per_kg": "0"}, "more than zero"),
    ({"grade": "class2", "valid_to": "2024-12-31"}, "cannot end before it starts"),
])
def test_a_bad_agreement_shows_an_error_and_saves_nothing(acme, overrides, message):
    with acme:
        services.create_price_agreement(fruit_type="apple", grade="class1", valid_from=date(2025, 1, 1),
                                        price_per_kg=Decimal("10"))

    response = acme.client("Manager").post(PRICES + "add/", agreement_form(**overrides))

    assert message in all_messages(form_errors(response))
    with acme:
        assert PriceAgreement.objects.count() == 1


def test_changing_an_agreement_goes_through_the_service_and_keeps_what_it_prices(acme):
    [agreement] = make_agreements(acme, 1)

    response = acme.client("Manager").post(change_url(PRICES, agreement), agreement_form(
        fruit_type="pear", variety="Other", valid_from="2020-01-01",
        valid_to="2025-06-30", price_per_kg="11.0000", notes="Renegotiated",
    ))

    assert response.status_code == 302
    with acme:
        agreement.refresh_from_db()
    assert (agreement.fruit_type, agreement.variety, agreement.valid_from) == ("apple", "V0", date(2025, 1, 1))
    assert (agreement.valid_to, agreement.price_per_kg, agreement.notes) == (
        date(2025, 6, 30), Decimal("11.0000"), "Renegotiated",
    )


def test_extending_an_agreement_over_the_next_one_is_refused(acme):
    with acme:
        first = services.create_price_agreement(fruit_type="apple", grade="class1", valid_from=date(2025, 1, 1),
                                                valid_to=date(2025, 6, 30), price_per_kg=Decimal("10"))
        services.create_price_agreement(fruit_type="apple", grade="class1", valid_from=date(2025, 7, 1),
                                        price_per_kg=Decimal("12"))

    response = acme.client("Manager").post(change_url(PRICES, first), agreement_form(
        valid_to="2025-12-31", price_per_kg="10.0000",
    ))

    assert OVERLAP_MESSAGE in all_messages(form_errors(response))
    with acme:
        first.refresh_from_db()
    assert first.valid_to == date(2025, 6, 30)


def test_agreements_are_not_deleted_in_the_admin(acme):
    [agreement] = make_agreements(acme, 1)
    client = acme.client("Manager")

    assert client.post(f"{PRICES}{agreement.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "/delete/" not in client.get(change_url(PRICES, agreement)).text
    with acme:
        assert PriceAgreement.objects.filter(pk=agreement.pk).exists()


# --- Grower payments ---------------------------------------------------------------------------------------------


@pytest.fixture
def grower(acme):
    with acme:
        return create_grower(code="G0001", name="Appelkloof")


def make_payments(tenant, grower, count, start=0):
    with tenant:
        today = company_today()
        return [
            services.record_payment(grower=grower, payment_type="advance", amount=Decimal("100.00"),
                                    reference=f"EFT-{start + n:04d}", paid_date=today)
            for n in range(count)
        ]


def payment_form(tenant, grower, **overrides):
    with tenant:
        today = company_today()
    data = {"grower": grower.pk, "payment_type": "advance", "amount": "1000.00", "reference": "EFT-9000",
            "paid_date": today.isoformat(), "notes": ""}
    data.update(overrides)
    return data


def test_payment_changelist_query_count_does_not_grow_with_rows(acme, grower):
    client = acme.client("Manager")
    make_payments(acme, grower, 3)
    client.get(PAYMENTS)  # warm per-process caches
    few = queries_for(client, PAYMENTS)

    make_payments(acme, grower, 27, start=3)
    many = queries_for(client, PAYMENTS)

    assert many == few
    assert "EFT-0029" in client.get(PAYMENTS).text


def test_payment_add_and_view_pages_render_for_a_manager(acme, grower):
    [payment] = make_payments(acme, grower, 1)
    client = acme.client("Manager")

    assert client.get(PAYMENTS + "add/").status_code == 200
    page = client.get(change_url(PAYMENTS, payment))
    assert page.status_code == 200
    assert "EFT-0000" in page.text
    # Every field read-only, no save button, no delete link.
    for field in ("grower", "payment_type", "amount", "reference", "paid_date", "notes"):
        assert f'name="{field}"' not in page.text
    assert 'name="_save"' not in page.text and "/delete/" not in page.text


def test_adding_a_payment_goes_through_the_service(acme, grower):
    response = acme.client("Manager").post(PAYMENTS + "add/", payment_form(acme, grower, reference="  EFT-9000 "))

    assert response.status_code == 302
    with acme:
        payment = GrowerPayment.objects.get()
        assert (payment.reference, payment.amount, payment.payment_type) == ("EFT-9000", Decimal("1000.00"), "advance")
        assert payment.created_by == acme.user("Manager")


def test_a_negative_adjustment_is_a_payment_like_any_other(acme, grower):
    response = acme.client("Manager").post(
        PAYMENTS + "add/", payment_form(acme, grower, payment_type="adjustment", amount="-250.00"),
    )

    assert response.status_code == 302
    with acme:
        assert GrowerPayment.objects.get().amount == Decimal("-250.00")


@pytest.mark.parametrize("overrides, field, message", [
    ({"reference": "EFT-0000"}, "reference", "already used"),
    ({"amount": "-100.00"}, "amount", "positive amount"),
    ({"payment_type": "final", "amount": "0"}, "amount", "positive amount"),
    ({"payment_type": "adjustment", "amount": "0"}, "amount", "cannot be zero"),
    ({"paid_date": "2999-01-01"}, "paid_date", "cannot be in the future"),
    ({"reference": ""}, "reference", "required"),
])
def test_a_bad_payment_shows_an_error_beside_the_field_and_saves_nothing(acme, grower, overrides, field, message):
    make_payments(acme, grower, 1)

    response = acme.client("Manager").post(PAYMENTS + "add/", payment_form(acme, grower, **overrides))

    assert message in " ".join(form_errors(response)[field])
    with acme:
        assert list(GrowerPayment.objects.values_list("reference", flat=True)) == ["EFT-0000"]


def test_a_payment_cannot_be_changed_or_deleted(acme, grower):
    [payment] = make_payments(acme, grower, 1)
    client = acme.client("Manager")

    changed = client.post(change_url(PAYMENTS, payment), payment_form(acme, grower, amount="999999.00",
                                                                     reference="EFT-0000"))
    deleted = client.post(f"{PAYMENTS}{payment.pk}/delete/", {"post": "yes"})
    bulk = client.post(PAYMENTS, {"action": "delete_selected", "_selected_action": [payment.pk], "post": "yes"})

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert bulk.status_code in (200, 302)
    with acme:
        assert list(GrowerPayment.objects.values_list("pk", "amount")) == [(payment.pk, Decimal("100.00"))]


def test_save_as_new_on_a_payment_page_adds_a_new_payment_and_leaves_the_first_alone(acme, grower):
    [payment] = make_payments(acme, grower, 1)

    response = acme.client("Manager").post(
        change_url(PAYMENTS, payment), {**payment_form(acme, grower, reference="EFT-0001"), "_saveasnew": "1"},
    )

    assert response.status_code == 302
    with acme:
        assert list(GrowerPayment.objects.order_by("pk").values_list("reference", "amount")) == [
            ("EFT-0000", Decimal("100.00")), ("EFT-0001", Decimal("1000.00")),
        ]


# --- Access ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "Clerk", "Finance"])
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(acme, grower, role):
    [payment] = make_payments(acme, grower, 1)
    [agreement] = make_agreements(acme, 1)
    client = acme.client(role)

    for url in (PRICES, PRICES + "add/", change_url(PRICES, agreement),
                PAYMENTS, PAYMENTS + "add/", change_url(PAYMENTS, payment)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    assert client.post(PAYMENTS + "add/", payment_form(acme, grower)).status_code == 302
    assert client.post(PRICES + "add/", agreement_form(grade="class3")).status_code == 302
    with acme:
        assert GrowerPayment.objects.count() == PriceAgreement.objects.count() == 1


def test_the_other_companys_payment_and_agreement_are_not_found(acme, globex):
    with globex:
        outsider = create_grower(code="GX-1", name="Globex secret farm")
        payment = services.record_payment(grower=outsider, payment_type="advance", amount=Decimal("777.00"),
                                             reference="GLOBEX-SECRET", paid_date=company_today() - timedelta(days=1))
        agreement = services.create_price_agreement(fruit_type="grape", variety="Globex secret grape",
                                                    grade="class1", valid_from=date(2025, 1, 1),
                                                    price_per_kg=Decimal("99"))
    client = acme.client("Manager")

    for url, secret in ((change_url(PAYMENTS, payment), "GLOBEX-SECRET"),
                        (change_url(PRICES, agreement), "Globex secret grape")):
        response = client.get(url)
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert response["Location"] == "/admin/"
        assert secret not in client.get(url, follow=True).text
    assert client.post(change_url(PRICES, agreement), agreement_form(price_per_kg="1")).status_code in (302, 404)
    with globex:
        agreement.refresh_from_db()
    assert agreement.price_per_kg == Decimal("99")
