"""A company's managers set its intake rules (mrl_gate, qc_required) on its own settings page."""

from decimal import Decimal

import pytest
from django_tenants.utils import get_public_schema_name, schema_context

from core.tenancy import company_today
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory
from tenants import services
from tenants.models import Company

pytestmark = pytest.mark.django_db

URL = "/company/settings/"
# The rest of the page's fields as it shows them (the defaults): a browser posts them all.
UNCHANGED = {"locale": "en-ZA", "harvest_confirm_days": "7", "payment_confirm_amount": "500000,00",
             "payment_max_amount": "50000000,00"}


def company(schema):
    with schema_context(get_public_schema_name()):
        return Company.objects.get(schema_name=schema)


@pytest.mark.parametrize(("role", "status"), [("Clerk", 403), ("Finance", 403), ("Manager", 200)])
def test_only_managers_see_the_page(acme, role, status):
    response = acme.client(role).get(URL)

    assert response.status_code == status
    if status == 200:
        assert 'name="mrl_gate" value="block"' in response.text and 'name="qc_required"' in response.text


@pytest.mark.parametrize("role", ["Clerk", "Finance"])
def test_other_roles_cannot_change_the_settings(acme, role):
    response = acme.client(role).post(URL, {"mrl_gate": "off", "qc_required": "on"})

    assert response.status_code == 403
    assert (company("acme").mrl_gate, company("acme").qc_required) == ("warn", False)


def test_anonymous_is_sent_to_login(acme):
    response = acme.client().post(URL, {"mrl_gate": "off"})

    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    assert company("acme").mrl_gate == "warn"


def test_the_other_companys_manager_is_a_stranger_here(acme, globex):
    response = globex.client("Manager").post(URL, {"mrl_gate": "off"}, HTTP_HOST=acme.host)

    assert response.status_code == 302
    assert company("acme").mrl_gate == "warn"


def test_a_manager_changes_only_their_own_company(acme, globex, committed):
    client = acme.client("Manager")
    client.get(URL)  # the host's company is now cached

    with committed():
        response = client.post(URL, {"mrl_gate": "block", "qc_required": "on", **UNCHANGED}, follow=True)

    assert "Company settings saved." in response.text
    assert (company("acme").mrl_gate, company("acme").qc_required) == ("block", True)
    assert (company("globex").mrl_gate, company("globex").qc_required) == ("warn", False)
    # The next request's company is the new row, not the cached one.
    tenant = client.get(URL).wsgi_request.tenant
    assert (tenant.mrl_gate, tenant.qc_required) == ("block", True)


def test_the_new_gate_applies_to_the_next_intake(acme, committed):
    with acme:
        grower = GrowerFactory()
        block = block_for(grower)
        packhouse = PackhouseFactory()
    clerk = acme.client("Clerk")
    body = {"grower": grower.pk, "fruit_type": block.fruit_type, "variety": block.variety,
            "packhouse": packhouse.pk, "harvest_date": str(company_today()), "bin_count": 4,
            "gross_weight_kg": "2000.00", "tare_weight_kg": "200.00"}
    api = acme.api_client("Clerk")
    clerk.get("/")  # the host's company (mrl_gate warn) is now cached

    with committed():
        acme.client("Manager").post(URL, {"mrl_gate": "block", **UNCHANGED})
    refused = api.post("/api/batches/", body, format="json")

    assert refused.status_code == 400, refused.content
    assert "no spray clearance" in refused.json()["errors"]["block"][0]


def test_bad_input_shows_an_error_and_changes_nothing(acme):
    response = acme.client("Manager").post(URL, {"mrl_gate": "sometimes"})

    assert response.status_code == 200
    assert "mrl_gate" in response.context["form"].errors
    assert company("acme").mrl_gate == "warn"


def test_the_service_changes_only_the_settings(acme, committed):
    row = company("acme")

    with pytest.raises(Exception, match="cannot be changed here"):
        services.update_company_settings(row, name="Hijacked")
    with pytest.raises(Exception, match="mrl_gate"):
        services.update_company_settings(company("acme"), mrl_gate="never")
    with committed():
        changed = services.update_company_settings(company("acme"), mrl_gate="off")

    assert changed == {"mrl_gate": ["warn", "off"]}
    assert (company("acme").name, company("acme").mrl_gate) == ("Acme Fruit", "off")


def test_the_platform_admin_shows_the_settings_in_the_company_form(acme):
    from django.test import Client

    from accounts.models import User

    with schema_context(get_public_schema_name()):
        staff = User.objects.create_superuser(email="root@platform.test", password="correct-horse-battery")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)

    page = client.get(f"/admin/tenants/company/{acme.company.pk}/change/")

    assert page.status_code == 200
    assert 'name="mrl_gate"' in page.text and 'name="qc_required"' in page.text
    assert "MRL gate" in client.get("/admin/tenants/company/").text


def test_a_manager_sets_the_reconciliation_thresholds(acme, committed):
    client = acme.client("Manager")
    page = client.get(URL).content.decode()

    with committed():
        response = client.post(URL, {**UNCHANGED, "mrl_gate": "warn", "variance_threshold_amount": "2500.00",
                                     "variance_threshold_percent": "1.5"}, follow=True)

    assert "Difference more than (amount)" in page and 'name="variance_threshold_percent"' in page
    assert "Company settings saved." in response.text
    row = company("acme")
    assert (row.variance_threshold_amount, row.variance_threshold_percent) == (2500, Decimal("1.50"))


def test_thresholds_left_out_or_empty_stay_as_they_are(acme, committed):
    with committed():
        acme.client("Manager").post(URL, {**UNCHANGED, "mrl_gate": "off", "variance_threshold_amount": ""})

    row = company("acme")
    assert row.mrl_gate == "off"
    assert (row.variance_threshold_amount, row.variance_threshold_percent) == (500, 5)


def test_a_negative_threshold_is_refused_beside_the_field(acme):
    response = acme.client("Manager").post(URL, {**UNCHANGED, "mrl_gate": "warn", "variance_threshold_amount": "-1"})

    assert response.status_code == 200
    assert "variance_threshold_amount" in response.context["form"].errors
    assert company("acme").variance_threshold_amount == 500
