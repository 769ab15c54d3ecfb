"""seasons.services: overlaps refused by the service and by the database, narrowing past batches refused,
and intake on a day no season covers refused with the message that sends a clerk to a manager."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from batches import services as batch_services
from batches.tests.factories import BatchFactory
from core.cache import generation
from core.tenancy import company_day_start, company_today
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory
from seasons import services
from seasons.models import Season

pytestmark = pytest.mark.django_db


def test_an_overlapping_season_is_refused_with_the_season_it_overlaps(acme):
    with acme:
        with pytest.raises(ValidationError) as caught:
            services.create_season(code="2026-MID", name="Mid", start_date=dt.date(2026, 6, 1),
                                   end_date=dt.date(2026, 6, 30))
        assert not Season.objects.filter(code="2026-MID").exists()

    assert caught.value.message_dict["start_date"] == ["These dates overlap season 2026 (01 Jan 2026 to 31 Dec 2026)."]


def test_the_database_refuses_an_overlap_the_service_never_saw(acme):
    """The exclusion constraint is the backstop for two managers saving at once."""
    with acme:
        with pytest.raises(IntegrityError, match="seasons_no_overlap"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO seasons (code, name, start_date, end_date, created_at, updated_at) "
                    "VALUES ('RAW', 'Raw', '2026-06-01', '2026-06-30', now(), now())"
                )
        assert not Season.objects.filter(code="RAW").exists()


def test_a_duplicate_code_is_a_message_on_the_code(acme):
    with acme, pytest.raises(ValidationError) as caught:
        services.create_season(code="2026", name="Again", start_date=dt.date(2040, 1, 1),
                               end_date=dt.date(2040, 12, 31))

    assert "Season 2026 already exists" in caught.value.message_dict["code"][0]


def test_end_before_start_is_refused(acme):
    with acme, pytest.raises(ValidationError) as caught:
        services.create_season(code="BACK", name="Backwards", start_date=dt.date(2041, 5, 1),
                               end_date=dt.date(2041, 4, 1))

    assert "end_date" in caught.value.message_dict


def test_create_normalises_and_bumps_the_generation(acme, committed):
    with acme:
        before = generation("seasons")
        with committed():
            season = services.create_season(code=" 2041-citrus ", name=" Citrus 2041 ",
                                            start_date=dt.date(2041, 1, 1), end_date=dt.date(2041, 6, 30))
        assert (season.code, season.name) == ("2041-CITRUS", "Citrus 2041")
        assert generation("seasons") == before + 1


def test_a_season_holding_batches_can_grow_but_not_shrink_past_them(acme):
    with acme:
        batch = BatchFactory()
        season = batch.season
        today = company_today()
        # Shrinking so that the batch's day falls out: refused, nothing changed.
        with pytest.raises(ValidationError) as caught:
            services.update_season(season, end_date=today - dt.timedelta(days=1))
        season.refresh_from_db()
        assert season.end_date >= today
        assert "1 batch was received on days the new dates leave out" in caught.value.message_dict["start_date"][0]
        # Renaming is fine.
        services.update_season(season, name="Renamed")
        season.refresh_from_db()
        assert season.name == "Renamed"


def test_intake_on_a_day_no_season_covers_is_refused_with_the_managers_message(acme):
    day = dt.date(2019, 6, 3)  # the fixtures' seasons start in 2020
    with acme:
        grower = GrowerFactory()
        block = block_for(grower)
        packhouse = PackhouseFactory()
        with pytest.raises(ValidationError) as caught:
            batch_services.record_intake(
                block=block, packhouse=packhouse, harvest_date=day, gross_weight_kg=Decimal("1000"),
                tare_weight_kg=Decimal("100"), bin_count=2, intake_date=company_day_start(day) + dt.timedelta(hours=9),
            )
        assert not grower.batches.exists()

    assert caught.value.message_dict["intake_date"] == [services.no_season_message(day)]
    assert "A manager must add a season that includes this date" in services.no_season_message(day)


def test_intake_on_a_day_no_season_covers_is_a_400_in_the_api(acme):
    with acme:
        grower = GrowerFactory()
        block_for(grower)
        packhouse = PackhouseFactory()

    response = acme.api_client("Clerk").post("/api/batches/", {
        "grower": grower.pk, "packhouse": packhouse.pk, "fruit_type": "apple", "variety": "Gala",
        "harvest_date": "2019-06-02", "intake_date": "2019-06-03T09:00:00+02:00", "bin_count": 2,
        "gross_weight_kg": "1000.00", "tare_weight_kg": "100.00",
    }, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["intake_date"] == [services.no_season_message(dt.date(2019, 6, 3))]
    with acme:
        assert not grower.batches.exists()


def test_lookups(acme):
    with acme:
        season = services.season_for(dt.date(2026, 7, 1))
        assert season.code == "2026"
        assert services.season_by_code_or_id("2026") == season
        assert services.season_by_code_or_id(str(season.pk)) == season
        assert services.season_by_code_or_id("nope") is None
        assert services.season_by_code_or_id("") is None
        assert services.season_by_code_or_id("9" * 30) is None
        assert services.current_season() == services.season_for(company_today())
