import datetime as dt
from decimal import Decimal

import pytest

from batches import services
from batches.models import Batch, BatchHistory
from batches.tests.factories import with_block
from core.tenancy import company_today
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory

from .factories import BatchFactory, packed_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(acme):
    with acme:
        grower = GrowerFactory()
        # Old-style intakes (grower, fruit, variety) name this block: the grower's only apple Gala block.
        block_for(grower, "apple", "Gala")
        return {"grower": grower, "packhouse": PackhouseFactory(code="PH1")}


def intake_body(site, **overrides):
    body = {"grower": site["grower"].pk, "packhouse": site["packhouse"].pk, "fruit_type": "apple",
            "variety": "Gala", "harvest_date": str(company_today()), "bin_count": 10,
            "gross_weight_kg": "4200.50", "tare_weight_kg": "400.00"}
    body.update(overrides)
    return body


def test_clerk_records_an_intake_and_follows_it_to_dispatch(acme, site):
    api = acme.api_client("Clerk")

    created = api.post("/api/batches/", intake_body(site), format="json")
    assert created.status_code == 201, created.content
    batch = created.json()
    assert batch["batch_code"].startswith("PH1-")
    assert (batch["net_weight_kg"], batch["status"], batch["version"]) == ("3800.50", "received", 1)
    assert batch["grower"]["code"] == site["grower"].code
    assert batch["allowed_transitions"] == ["grading", "rejected"]

    url = f"/api/batches/{batch['id']}"
    assert api.post(f"{url}/transition/", {"to_status": "grading"}, format="json").status_code == 200
    packout = api.post(f"{url}/packout/", {"class1_kg": "3000", "class2_kg": "500", "class3_kg": "100",
                                           "waste_kg": "200.50"}, format="json")
    assert packout.status_code == 200
    assert packout.json()["packout_percent"] == "94.7"
    for status in ("packing", "packed", "dispatched"):
        moved = api.post(f"{url}/transition/", {"to_status": status}, format="json")
        assert moved.status_code == 200, moved.content
    assert moved.json()["allowed_transitions"] == []

    history = api.get(f"{url}/history/").json()
    assert [row["event"] for row in history["items"]] == [
        "created", "status_changed", "packout", "status_changed", "status_changed", "status_changed"
    ]
    assert history["items"][0]["recorded_by"] == "clerk@acme.test"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tare_weight_kg": "4200.50"}, "tare_weight_kg"),
        ({"gross_weight_kg": "-5"}, "gross_weight_kg"),
        ({"gross_weight_kg": "12.345"}, "gross_weight_kg"),
        ({"gross_weight_kg": "lots"}, "gross_weight_kg"),
        ({"bin_count": 0}, "bin_count"),
        ({"harvest_date": "2999-01-01"}, "harvest_date"),
        ({"harvest_date": "31/12/2026"}, "harvest_date"),
        ({"fruit_type": "banana"}, "fruit_type"),
        ({"grower": 999999}, "grower"),
        ({"packhouse": "x"}, "packhouse"),
        ({"variety": "x" * 101}, "variety"),
    ],
)
def test_bad_intake_is_400_naming_the_field_and_saves_nothing(acme, site, overrides, field):
    response = acme.api_client("Clerk").post("/api/batches/", intake_body(site, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    with acme:
        assert not Batch.objects.exists()


def test_intake_for_an_inactive_grower_is_400(acme, site):
    with acme:
        site["grower"].active = False
        site["grower"].save()

    response = acme.api_client("Clerk").post("/api/batches/", intake_body(site), format="json")

    assert response.status_code == 400
    assert "inactive" in response.json()["errors"]["grower"][0]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "{}"])
def test_unparseable_or_empty_bodies_are_400(acme, body):
    response = acme.api_client("Clerk").post("/api/batches/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in ("parse_error", "invalid")


def test_forbidden_move_is_400_and_reject_needs_a_reason(acme):
    with acme:
        batch = BatchFactory()
    api = acme.api_client("Clerk")

    skip = api.post(f"/api/batches/{batch.pk}/transition/", {"to_status": "packed"}, format="json")
    bare_reject = api.post(f"/api/batches/{batch.pk}/transition/", {"to_status": "rejected"}, format="json")

    assert skip.status_code == 400 and "cannot move" in skip.json()["errors"]["to_status"][0]
    assert bare_reject.status_code == 400 and "reason" in bare_reject.json()["errors"]
    with acme:
        assert BatchHistory.objects.filter(batch=batch).count() == 1


def test_stale_version_is_409(acme):
    with acme:
        batch = BatchFactory()
    api = acme.api_client("Clerk")
    assert api.post(f"/api/batches/{batch.pk}/transition/", {"to_status": "grading", "version": 1},
                    format="json").status_code == 200

    late = api.post(f"/api/batches/{batch.pk}/transition/", {"to_status": "rejected", "reason": "x", "version": 1},
                    format="json")
    stale_edit = api.patch(f"/api/batches/{batch.pk}/", {"notes": "Fuji", "version": 1}, format="json")

    assert late.status_code == 409 and late.json()["code"] == "stale_version"
    assert stale_edit.status_code == 409


def test_a_manager_corrects_through_the_api_with_a_reason(acme):
    with acme:
        batch = BatchFactory(variety="Gala")
        pink_lady = block_for(batch.grower, "apple", "Pink Lady")

    response = acme.api_client("Manager").patch(
        f"/api/batches/{batch.pk}/", {"block": pink_lady.pk, "gross_weight_kg": "4100.00", "reason": "Ticket 4411"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["net_weight_kg"], response.json()["variety"]) == ("3600.00", "Pink Lady")
    with acme:
        row = BatchHistory.objects.get(batch=batch, event="corrected")
    assert row.payload == {"changes": {"block": [str(batch.block), str(pink_lady)],
                                       "gross_weight_kg": ["4000.00", "4100.00"]}, "reason": "Ticket 4411"}


def test_a_correction_without_a_reason_is_a_400_naming_it_and_changes_nothing(acme):
    with acme:
        batch = BatchFactory()

    response = acme.api_client("Manager").patch(f"/api/batches/{batch.pk}/", {"gross_weight_kg": "4100.00"},
                                                format="json")

    assert response.status_code == 400
    assert "reason" in response.content.decode()
    with acme:
        batch.refresh_from_db()
        assert batch.gross_weight_kg == Decimal("4000.00")
        assert list(batch.history.values_list("event", flat=True)) == ["created"]


@pytest.mark.parametrize("body", [
    {"gross_weight_kg": "123456789012.99", "reason": "typo"},  # more digits than a weight has
    {"gross_weight_kg": "-5", "reason": "typo"},
    {"tare_weight_kg": "4000.00", "reason": "typo"},  # not below the gross
    {"gross_weight_kg": "abc", "reason": "typo"},
    {"bin_count": 0, "reason": "typo"},
])
def test_wild_corrections_are_refused_and_change_nothing(acme, body):
    with acme:
        batch = BatchFactory()

    response = acme.api_client("Manager").patch(f"/api/batches/{batch.pk}/", body, format="json")

    assert response.status_code == 400
    assert next(name for name in body if name != "reason") in response.content.decode()
    with acme:
        batch.refresh_from_db()
        assert (batch.gross_weight_kg, batch.tare_weight_kg, batch.version) == (Decimal("4000.00"),
                                                                                Decimal("500.00"), 1)


@pytest.mark.parametrize("body", [{"gross_weight_kg": "4100.00", "reason": "Ticket"}, {"harvest_date": "2020-01-01"},
                                  {"notes": "n", "reason": "Ticket"}])
def test_a_clerk_may_not_correct_even_after_pack_out(acme, body):
    with acme:
        batch = packed_batch()

    response = acme.api_client("Clerk").patch(f"/api/batches/{batch.pk}/", body, format="json")

    assert response.status_code == 403
    assert "manager" in response.content.decode()
    with acme:
        batch.refresh_from_db()
        assert (batch.gross_weight_kg, batch.version) == (Decimal("4000.00"), 5)


def test_a_clerk_still_adds_notes_without_a_reason(acme):
    with acme:
        batch = BatchFactory()

    response = acme.api_client("Clerk").patch(f"/api/batches/{batch.pk}/", {"notes": "Bins wet"}, format="json")

    assert response.status_code == 200
    with acme:
        assert batch.history.latest("id").event == "edited"


def test_status_cannot_be_patched(acme):
    with acme:
        batch = BatchFactory()

    response = acme.api_client("Manager").patch(f"/api/batches/{batch.pk}/", {"status": "dispatched"}, format="json")

    with acme:
        batch.refresh_from_db()
    assert batch.status == "received"  # status moves only by transition
    assert response.status_code == 400
    assert response.json()["errors"] == {"status": ["This field is read-only here; leave it out."]}


def test_intake_with_a_weighbridge_time(acme, site):
    weighed = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)  # 01:30 on 3 March in Johannesburg

    response = acme.api_client("Clerk").post(
        "/api/batches/", intake_body(site, intake_date=weighed.isoformat(), harvest_date="2026-03-01"), format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["batch_code"] == "PH1-20260303-0001"


def test_packout_over_net_is_400(acme):
    with acme:
        from batches import services

        batch = services.transition(BatchFactory(), "grading")

    response = acme.api_client("Clerk").post(
        f"/api/batches/{batch.pk}/packout/",
        {"class1_kg": "3500.01", "class2_kg": "0", "class3_kg": "0", "waste_kg": "0"}, format="json",
    )

    assert response.status_code == 400
    assert "more than the batch's net" in response.json()["errors"]["non_field_errors"][0]


def test_decimals_are_strings_not_floats(acme):
    with acme:
        BatchFactory(gross_weight_kg=Decimal("1000.10"), tare_weight_kg=Decimal("0.20"))

    item = acme.api_client("Clerk").get("/api/batches/").json()["items"][0]

    assert (item["gross_weight_kg"], item["tare_weight_kg"], item["net_weight_kg"]) == ("1000.10", "0.20", "999.90")


# --- Idempotency-Key on intake ----------------------------------------------------------


def test_a_retried_intake_with_its_key_returns_the_first_batch_and_makes_nothing(acme, site):
    api = acme.api_client("Clerk")

    first = api.post("/api/batches/", intake_body(site), format="json", HTTP_IDEMPOTENCY_KEY="wb-7-000123")
    again = api.post("/api/batches/", intake_body(site, variety=" Gala "), format="json",
                     HTTP_IDEMPOTENCY_KEY="wb-7-000123")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    with acme:
        assert Batch.objects.count() == 1
        assert BatchHistory.objects.count() == 1


def test_the_same_key_for_another_delivery_is_409_and_changes_nothing(acme, site):
    api = acme.api_client("Clerk")
    first = api.post("/api/batches/", intake_body(site), format="json", HTTP_IDEMPOTENCY_KEY="wb-7-000124")

    other = api.post("/api/batches/", intake_body(site, bin_count=11), format="json",
                     HTTP_IDEMPOTENCY_KEY="wb-7-000124")

    assert first.status_code == 201
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert first.json()["batch_code"] in other.json()["detail"]
    with acme:
        assert Batch.objects.count() == 1


def test_without_a_key_every_post_is_a_new_batch_and_a_long_key_is_400(acme, site):
    api = acme.api_client("Clerk")

    assert api.post("/api/batches/", intake_body(site), format="json").status_code == 201
    assert api.post("/api/batches/", intake_body(site), format="json").status_code == 201
    too_long = api.post("/api/batches/", intake_body(site), format="json", HTTP_IDEMPOTENCY_KEY="k" * 129)

    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["errors"]
    with acme:
        assert Batch.objects.count() == 2


def test_a_key_belongs_to_its_company(acme, globex, site):
    with globex:
        other_grower = GrowerFactory()
        block_for(other_grower, "apple", "Gala")
        other_site = {"grower": other_grower, "packhouse": PackhouseFactory(code="PH1")}

    mine = acme.api_client("Clerk").post("/api/batches/", intake_body(site), format="json",
                                         HTTP_IDEMPOTENCY_KEY="shared-key")
    theirs = globex.api_client("Clerk").post("/api/batches/", intake_body(other_site), format="json",
                                             HTTP_IDEMPOTENCY_KEY="shared-key")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    with globex:
        assert Batch.objects.get().idempotency_key == "shared-key"


def test_the_database_refuses_a_second_batch_with_a_key_already_used(acme, site):
    """What record_intake_once relies on when two requests with one key race past its first lookup."""
    from django.db import IntegrityError, transaction

    from batches import services

    body = {**intake_body(site), "grower": site["grower"], "packhouse": site["packhouse"],
            "harvest_date": company_today(), "gross_weight_kg": Decimal("4200.50"),
            "tare_weight_kg": Decimal("400.00")}
    with acme:
        body = with_block(body)
        services.record_intake(**body, idempotency_key="race-1")
        with pytest.raises(IntegrityError), transaction.atomic():
            services.record_intake(**body, idempotency_key="race-1")
        services.record_intake(**body)  # no key: no limit
        services.record_intake(**body)
        assert Batch.objects.filter(idempotency_key="race-1").count() == 1
        assert Batch.objects.filter(idempotency_key=None).count() == 2


def test_the_list_writes_every_batch_as_its_own_page_does(acme, site):
    """The list reads grower, packhouse, block, farm and season as columns of its one statement
    (BatchListRowSerializer); each row must still be exactly what BatchSerializer writes."""
    api = acme.api_client("Clerk")
    body = intake_body(site, bins=[f"LR-{n}" for n in range(1, 11)])
    del body["bin_count"]
    scanned = api.post("/api/batches/", body, format="json")
    assert scanned.status_code == 201, scanned.content
    packed = api.post("/api/batches/", intake_body(site, notes="packed"), format="json").json()
    with acme:
        batch = Batch.objects.get(pk=packed["id"])
        for status in ("grading", "packing"):
            batch = services.transition(batch, status)
        services.record_packout(batch, class1_kg=Decimal("3000"), class2_kg=Decimal("500.25"),
                                class3_kg=Decimal("0"), waste_kg=Decimal("300.25"))
        # Before blocks and seasons: a batch with neither.
        bare = Batch.objects.bulk_create([Batch(
            batch_code="OLD-0001", grower=site["grower"], packhouse=site["packhouse"], fruit_type="apple",
            variety="Gala", harvest_date=company_today(), bin_count=5, gross_weight_kg=Decimal("2000"),
            tare_weight_kg=Decimal("250"))])[0]

    listed = {row["id"]: row for row in api.get("/api/batches/?limit=500").json()["items"]}

    for pk in (scanned.json()["id"], packed["id"], bare.pk):
        own = api.get(f"/api/batches/{pk}/").json()
        assert list(listed[pk].items()) == list(own.items())
    assert listed[bare.pk]["farm"] is None and listed[bare.pk]["season"] is None
    assert listed[scanned.json()["id"]]["bins"] == [f"LR-{n}" for n in range(1, 11)]
    assert listed[packed["id"]]["packout_percent"] == "92.1"
