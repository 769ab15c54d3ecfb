"""Intake figures out of the ordinary need a confirmation (docs/DATA_ENTRY.md, "Plausibility")."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from batches import services
from batches.models import DEFAULT_BIN_RANGES, Batch, BatchHistory, BinWeightRange
from core.tenancy import company_today
from growers.models import FruitType
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def site(acme):
    with acme:
        grower = GrowerFactory(code="G0042", name="Oak Valley")
        return {"grower": grower, "block": block_for(grower, "apple", "Gala"),
                "packhouse": PackhouseFactory(code="PH1")}


def intake(site, **overrides):
    values = {"block": site["block"], "packhouse": site["packhouse"], "harvest_date": company_today(),
              "bin_count": 10, "gross_weight_kg": Decimal("4200"), "tare_weight_kg": Decimal("400")}
    values.update(overrides)
    return services.record_intake(**values)


def test_every_fruit_has_a_default_range():
    assert set(DEFAULT_BIN_RANGES) == set(FruitType.values)
    assert all(Decimal(0) < low < high for low, high in DEFAULT_BIN_RANGES.values())


def test_a_usual_intake_needs_no_confirmation_and_says_nothing_of_it(acme, site):
    with acme:
        batch = intake(site)  # 380 kg per bin of apples
        created = batch.history.get(event=BatchHistory.Event.CREATED)

    assert "confirmed_unusual" not in created.payload


def test_an_impossible_weight_per_bin_is_refused_saying_what_was_understood(acme, site):
    with acme, pytest.raises(ValidationError) as refused:
        intake(site, gross_weight_kg=Decimal("99999999"), tare_weight_kg=Decimal("0"))

    [message, ask] = refused.value.message_dict["confirm_unusual"]
    assert message == (f"99{NBSP}999{NBSP}999,00 kg net from 10 bins is 9{NBSP}999{NBSP}999,90 kg per bin; "
                       "apple bins usually hold 300–450 kg.")
    assert "confirm" in ask
    with acme:
        assert not Batch.objects.exists()


def test_confirmed_it_is_recorded_and_the_history_keeps_what_was_confirmed(acme, site):
    with acme:
        batch = intake(site, gross_weight_kg=Decimal("99999999"), tare_weight_kg=Decimal("0"), confirm_unusual=True)
        created = batch.history.get(event=BatchHistory.Event.CREATED)

    assert batch.net_weight_kg == Decimal("99999999.00")
    assert created.payload["confirmed_unusual"] == [
        f"99{NBSP}999{NBSP}999,00 kg net from 10 bins is 9{NBSP}999{NBSP}999,90 kg per bin; "
        "apple bins usually hold 300–450 kg.",
    ]


def test_too_light_bins_need_a_confirmation_too(acme, site):
    with acme, pytest.raises(ValidationError) as refused:
        intake(site, gross_weight_kg=Decimal("1400"), tare_weight_kg=Decimal("400"))  # 100 kg per bin

    assert "100,00 kg per bin" in refused.value.message_dict["confirm_unusual"][0]


def test_the_companys_own_range_replaces_the_default(acme, site):
    with acme:
        services.set_bin_weight_range("apple", min_net_kg=Decimal("50"), max_net_kg=Decimal("150"))
        light = intake(site, gross_weight_kg=Decimal("1400"), tare_weight_kg=Decimal("400"))
        with pytest.raises(ValidationError) as refused:
            intake(site)  # 380 kg per bin: above this company's apples

    assert light.net_weight_kg == Decimal("1000.00")
    assert "apple bins usually hold 50–150 kg" in refused.value.message_dict["confirm_unusual"][0]


def test_a_harvest_long_before_delivery_needs_a_confirmation(acme, site):
    harvested = company_today() - dt.timedelta(days=12)
    with acme, pytest.raises(ValidationError) as refused:
        intake(site, harvest_date=harvested)

    assert refused.value.message_dict["confirm_unusual"][0] == (
        f"The fruit was harvested on {harvested:%d %b %Y}, 12 days before delivery; more than 7 days is unusual."
    )
    with acme:
        assert intake(site, harvest_date=harvested, confirm_unusual=True).harvest_date == harvested


def test_a_week_old_harvest_is_usual(acme, site):
    with acme:
        assert intake(site, harvest_date=company_today() - dt.timedelta(days=7))


@pytest.mark.parametrize(("low", "high", "field"), [("0", "10", "min_net_kg"), ("300", "300", "max_net_kg")])
def test_a_range_must_be_positive_and_ordered(acme, low, high, field):
    with acme, pytest.raises(ValidationError) as refused:
        services.set_bin_weight_range("apple", min_net_kg=Decimal(low), max_net_kg=Decimal(high))

    assert field in refused.value.message_dict


# --- The intake form ---------------------------------------------------------------------------------------------

def intake_form(site, **overrides):
    data = {"block": "G0042-F1/B01", "packhouse": site["packhouse"].pk,
            "harvest_date": company_today().isoformat(), "bin_count": "10", "gross_weight_kg": "99999999",
            "tare_weight_kg": "0", "notes": "", "idempotency_key": uuid.uuid4().hex}
    data.update(overrides)
    return data


def test_the_form_shows_the_confirmation_only_when_it_is_needed(acme, site):
    client = acme.client("Clerk")

    blank = client.get("/batches/new/").content.decode()
    refused = client.post("/batches/new/", intake_form(site)).content.decode()

    assert 'name="confirm_unusual"' not in blank
    assert 'name="confirm_unusual"' in refused
    assert f"9{NBSP}999{NBSP}999,90 kg per bin; apple bins usually hold 300–450 kg." in refused
    with acme:
        assert not Batch.objects.exists()


def test_the_form_records_it_once_confirmed(acme, site):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, confirm_unusual="on"))

    assert response.status_code == 302
    with acme:
        batch = Batch.objects.get()
        assert batch.history.get(event=BatchHistory.Event.CREATED).payload["confirmed_unusual"]


def test_the_form_takes_a_decimal_comma(acme, site):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, gross_weight_kg="4000,5",
                                                                      tare_weight_kg="400"))

    assert response.status_code == 302
    with acme:
        assert Batch.objects.get().gross_weight_kg == Decimal("4000.50")


def test_the_form_refuses_an_ambiguous_weight_saying_what_to_type(acme, site):
    html = acme.client("Clerk").post("/batches/new/", intake_form(site, gross_weight_kg="4.000,5")).content.decode()

    assert "“4.000,5” is ambiguous: it mixes commas and points. If you meant 4 000,5, type 4000,5" in html


# --- The API ---------------------------------------------------------------------------------------------------

def api_body(site, **overrides):
    body = {"block": site["block"].pk, "packhouse": site["packhouse"].pk, "harvest_date": str(company_today()),
            "bin_count": 10, "gross_weight_kg": "99999999.00", "tare_weight_kg": "0.00"}
    body.update(overrides)
    return body


def test_the_api_refuses_unusual_figures_naming_confirm_unusual(acme, site):
    response = acme.api_client("Clerk").post("/api/batches/", api_body(site), format="json")

    assert response.status_code == 400
    assert "apple bins usually hold 300–450 kg" in str(response.json()["errors"]["confirm_unusual"])
    with acme:
        assert not Batch.objects.exists()


def test_the_api_records_them_with_confirm_unusual(acme, site):
    response = acme.api_client("Clerk").post("/api/batches/", api_body(site, confirm_unusual=True), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["gross_weight_kg"] == "99999999.00"  # JSON keeps plain decimal strings
    with acme:
        assert BatchHistory.objects.get(event="created").payload["confirmed_unusual"]


# --- The page of ranges -----------------------------------------------------------------------------------------

URL = "/batches/bin-weights/"


@pytest.mark.parametrize(("role", "status"), [("Clerk", 403), ("Finance", 403), ("Manager", 200)])
def test_only_managers_see_the_ranges_page(acme, role, status):
    assert acme.client(role).get(URL).status_code == status


def test_anonymous_is_sent_to_login(acme):
    response = acme.client().get(URL)

    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_other_companys_manager_is_a_stranger_here(acme, globex):
    response = globex.client("Manager").get(URL, HTTP_HOST=acme.host)

    assert response.status_code in (302, 403)


def test_a_manager_changes_a_range_with_a_decimal_comma(acme):
    client = acme.client("Manager")
    form = client.get(URL).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update({"grape_min": "4,5", "grape_max": "30"})

    response = client.post(URL, {name: str(value) for name, value in data.items()}, follow=True)

    assert "Net kg per bin saved." in response.content.decode()
    with acme:
        row = BinWeightRange.objects.get()
        assert (row.fruit_type, row.min_net_kg, row.max_net_kg, row.updated_by.role) == (
            "grape", Decimal("4.50"), Decimal("30.00"), "Manager")


def test_a_bad_range_is_refused_beside_its_field(acme):
    client = acme.client("Manager")
    form = client.get(URL).context["form"]
    data = {name: str(form[name].value()) for name in form.fields}
    data.update({"citrus_min": "600"})

    response = client.post(URL, data)

    assert response.status_code == 200
    assert "must be above the lowest" in response.content.decode()
    with acme:
        assert not BinWeightRange.objects.exists()
