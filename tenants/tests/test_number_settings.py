"""The company's number format and payment limits, set by its managers (docs/DATA_ENTRY.md)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import get_public_schema_name, schema_context

from batches.tests.factories import BatchFactory
from tenants import services
from tenants.models import Company

pytestmark = pytest.mark.django_db

URL = "/company/settings/"
SETTINGS = {"mrl_gate": "warn", "locale": "en-ZA", "harvest_confirm_days": "7",
            "payment_confirm_amount": "500 000,00", "payment_max_amount": "50 000 000,00"}


def company(schema):
    with schema_context(get_public_schema_name()):
        return Company.objects.get(schema_name=schema)


def test_the_defaults():
    new = Company(name="New", schema_name="new")

    assert (new.locale, new.harvest_confirm_days, new.payment_confirm_amount, new.payment_max_amount) == (
        "en-ZA", 7, Decimal("500000.00"), Decimal("50000000.00"))


def test_a_manager_sets_the_number_format_and_every_page_follows(acme, committed):
    client = acme.client("Manager")
    with acme:
        batch = BatchFactory(gross_weight_kg=Decimal("5000.50"), tare_weight_kg=Decimal("1500"))

    with committed():
        response = client.post(URL, {**SETTINGS, "locale": "en-US", "payment_confirm_amount": "250000"},
                               follow=True)

    assert "Company settings saved." in response.content.decode()
    saved = company("acme")
    assert (saved.locale, saved.payment_confirm_amount) == ("en-US", Decimal("250000.00"))
    docket = client.get(f"/batches/{batch.pk}/docket/").content.decode()
    assert "5,000.50 kg" in docket and "3,500.50 kg" in docket


def test_the_largest_payment_cannot_be_below_the_confirmation_amount(acme):
    response = acme.client("Manager").post(URL, {**SETTINGS, "payment_max_amount": "1000"})

    assert "cannot be below the confirmation amount" in response.content.decode()
    assert company("acme").payment_max_amount == Decimal("50000000.00")


def test_the_service_refuses_an_unknown_locale(acme):
    with pytest.raises(ValidationError) as refused:
        services.update_company_settings(company("acme"), locale="xx-YY")

    assert "locale" in refused.value.message_dict


def test_the_platform_admin_takes_amounts_with_a_decimal_comma(acme, settings):
    from core.forms import LocalDecimalField
    from tenants.admin import CompanyAdmin, platform_admin

    form = CompanyAdmin(Company, platform_admin).get_form(None)

    assert isinstance(form.base_fields["payment_max_amount"], LocalDecimalField)
    assert isinstance(form.base_fields["variance_threshold_amount"], LocalDecimalField)
