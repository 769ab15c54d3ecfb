"""Spray (MRL) clearances: recording them, and what intake does without one under each company setting."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from batches import services as batch_services
from batches.models import Batch, BatchHistory
from growers import services
from growers.models import SprayClearance
from packhouses.tests.factories import PackhouseFactory
from seasons.models import Season

from .factories import GrowerFactory, block_for

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 6, 10)
INTAKE = dt.datetime(2025, 6, 10, 10, 0, tzinfo=dt.UTC)  # the same local day in Johannesburg


@pytest.fixture
def site(acme):
    with acme:
        grower = GrowerFactory()
        return {"block": block_for(grower), "packhouse": PackhouseFactory(), "season": Season.objects.get(code="2025")}


def intake(site, **extra):
    return batch_services.record_intake(
        block=site["block"], packhouse=site["packhouse"], harvest_date=DAY, intake_date=INTAKE, bin_count=4,
        gross_weight_kg=Decimal("2000"), tare_weight_kg=Decimal("200"), **extra,
    )


def gated(acme, gate):
    """acme's company as a request would see it with mrl_gate set."""
    acme.company.mrl_gate = gate
    return tenant_context(acme.company)


def test_block_refuses_an_intake_without_clearance_with_the_reason(acme, site):
    with gated(acme, "block"):
        with pytest.raises(ValidationError) as refused:
            intake(site)
        assert not Batch.objects.exists()

    message = refused.value.message_dict["block"][0]
    assert "no spray clearance for season 2025" in message and "Record the clearance first" in message


def test_block_lets_a_cleared_block_in(acme, site):
    with gated(acme, "block"):
        services.record_clearance(block=site["block"], season=site["season"], cleared_on=dt.date(2025, 5, 1),
                                  lab_reference="LAB-77")
        batch = intake(site)

    assert batch.without_clearance is False


def test_warn_records_the_batch_flagged_with_a_history_row_saying_so(acme, site):
    with gated(acme, "warn"):
        batch = intake(site)
        created = BatchHistory.objects.get(batch=batch, event="created")

    assert batch.without_clearance is True
    assert created.payload["without_clearance"] is True


def test_off_neither_refuses_nor_flags(acme, site):
    with gated(acme, "off"):
        batch = intake(site)
        created = BatchHistory.objects.get(batch=batch, event="created")

    assert batch.without_clearance is False
    assert not created.payload.get("without_clearance")


@pytest.mark.parametrize("gate", ["warn", "block"])
def test_a_clearance_that_expired_before_the_intake_day_does_not_count(acme, site, gate):
    with gated(acme, gate):
        services.record_clearance(block=site["block"], season=site["season"], cleared_on=dt.date(2025, 5, 1),
                                  lab_reference="LAB-OLD", valid_until=DAY - dt.timedelta(days=1))
        if gate == "block":
            with pytest.raises(ValidationError, match="no spray clearance"):
                intake(site)
        else:
            assert intake(site).without_clearance is True


def test_a_clearance_valid_until_the_intake_day_counts(acme, site):
    with gated(acme, "block"):
        services.record_clearance(block=site["block"], season=site["season"], cleared_on=dt.date(2025, 5, 1),
                                  lab_reference="LAB-1", valid_until=DAY)
        assert intake(site).without_clearance is False


def test_another_seasons_or_blocks_clearance_does_not_count(acme, site):
    with gated(acme, "block"):
        other_block = block_for(site["block"].farm.grower, "pear", "Packham")
        services.record_clearance(block=other_block, season=site["season"], cleared_on=dt.date(2025, 5, 1),
                                  lab_reference="LAB-PEAR")
        services.record_clearance(block=site["block"], season=Season.objects.get(code="2024"),
                                  cleared_on=dt.date(2024, 5, 1), lab_reference="LAB-2024")
        with pytest.raises(ValidationError, match="no spray clearance"):
            intake(site)


def test_manager_records_a_clearance_on_the_block_page(acme, site):
    client = acme.client("Manager")
    url = f"/growers/blocks/{site['block'].pk}/"

    response = client.post(url + "clearances/", {"season": site["season"].pk, "cleared_on": "2025-05-01",
                                                 "lab_reference": " LAB-9 ", "valid_until": "2025-08-31"},
                           follow=True)

    assert "Spray clearance LAB-9 recorded for season 2025." in response.text
    assert response.text.count('data-testid="clearance"') == 1 and "2025-08-31" in response.text
    with acme:
        clearance = SprayClearance.objects.get()
    assert (clearance.block_id, clearance.lab_reference, clearance.valid_until) == (
        site["block"].pk, "LAB-9", dt.date(2025, 8, 31))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cleared_on": "2025-05-01", "lab_reference": ""}, "lab_reference"),
        ({"cleared_on": "", "lab_reference": "LAB-1"}, "cleared_on"),
        ({"cleared_on": "2025-05-01", "lab_reference": "LAB-1", "valid_until": "2025-04-01"}, None),
        ({"cleared_on": "2026-02-01", "lab_reference": "LAB-1"}, "cleared_on"),  # after season 2025 ends
    ],
)
def test_a_bad_clearance_shows_errors_and_saves_nothing(acme, site, data, field):
    response = acme.client("Manager").post(f"/growers/blocks/{site['block'].pk}/clearances/",
                                           {"season": site["season"].pk, **data})

    assert response.status_code == 200
    form = response.context["clearance_form"]
    assert form.errors and (field is None or field in form.errors)
    with acme:
        assert not SprayClearance.objects.exists()


def test_the_other_companys_block_takes_no_clearance(acme, globex, site):
    response = globex.client("Manager").post(f"/growers/blocks/{site['block'].pk}/clearances/",
                                             {"season": site["season"].pk, "cleared_on": "2025-05-01",
                                              "lab_reference": "LAB-X"})

    assert response.status_code == 404
    with acme:
        assert not SprayClearance.objects.exists()
