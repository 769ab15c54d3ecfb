"""The company admin for batches: intake and edits through the services, read-only history, access."""

from decimal import Decimal

import pytest

from batches import services
from batches.models import Batch, BatchCodeCounter, BatchHistory, Status
from batches.tests.factories import with_block
from core.tenancy import company_date, company_today
from core.tests.helpers import form_errors, queries_for
from growers.services import create_grower, update_grower
from growers.tests.factories import block_for
from packhouses.services import create_packhouse

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/batches/batch/"
ADD = CHANGELIST + "add/"


def change_url(batch):
    return f"{CHANGELIST}{batch.pk}/change/"


@pytest.fixture
def sources(acme):
    """Acme's packhouse PH1 and grower G0001."""
    with acme:
        return create_packhouse(code="PH1", name="Main shed"), create_grower(code="G0001", name="Appelkloof")


def intake(tenant, packhouse, grower, **overrides):
    with tenant:
        values = {
            "grower": grower, "packhouse": packhouse, "fruit_type": "apple", "variety": "Fuji",
            "harvest_date": company_today(), "bin_count": 10,
            "gross_weight_kg": Decimal("1000.00"), "tare_weight_kg": Decimal("100.00"),
        }
        values.update(overrides)
        # 90 kg per bin: unusual for apples, confirmed as a clerk would.
        return services.record_intake(**with_block(values), confirm_unusual=True)


def add_form(tenant, packhouse, grower, **overrides):
    with tenant:
        today = company_today()
        block = block_for(grower, "apple", "Fuji")
    data = {
        "block": block.pk, "packhouse": packhouse.pk, "intake_date_0": "", "intake_date_1": "",
        "harvest_date": today.isoformat(), "bin_count": "10",
        "gross_weight_kg": "1000.00", "tare_weight_kg": "100.00", "notes": "", "confirm_unusual": "on",
    }
    data.update(overrides)
    return data


def change_form(tenant, batch, **overrides):
    """What the change page posts: the editable fields, the version, and the read-only history inline."""
    with tenant:
        batch = Batch.objects.get(pk=batch.pk)
        history = list(batch.history.values_list("pk", flat=True))
    data = {
        "block": str(batch.block_id), "harvest_date": batch.harvest_date.isoformat(),
        "bin_count": str(batch.bin_count), "gross_weight_kg": str(batch.gross_weight_kg),
        "tare_weight_kg": str(batch.tare_weight_kg), "notes": batch.notes, "expected_version": str(batch.version),
        "history-TOTAL_FORMS": str(len(history)), "history-INITIAL_FORMS": str(len(history)),
        "history-MIN_NUM_FORMS": "0", "history-MAX_NUM_FORMS": "0",
    }
    for index, pk in enumerate(history):
        data[f"history-{index}-id"] = str(pk)
        data[f"history-{index}-batch"] = str(batch.pk)
    data.update(overrides)
    return data


def history_of(tenant, batch):
    with tenant:
        return list(BatchHistory.objects.filter(batch_id=batch.pk).values_list("event", flat=True))


# --- Pages and query budgets ---------------------------------------------------------------------------------------


def test_changelist_query_count_does_not_grow_with_rows(acme, sources):
    client = acme.client("Manager")
    for _ in range(3):
        intake(acme, *sources)
    client.get(CHANGELIST)  # warm per-process caches
    few = queries_for(client, CHANGELIST)

    for _ in range(27):
        intake(acme, *sources)
    many = queries_for(client, CHANGELIST)

    assert many == few
    page = client.get(CHANGELIST)
    assert page.text.count("Appelkloof") >= 30


def test_changelist_filters_and_searches(acme, sources):
    first = intake(acme, *sources)
    second = intake(acme, *sources, fruit_type="pear", variety="Packham")
    client = acme.client("Manager")

    by_fruit = client.get(CHANGELIST, {"fruit_type__exact": "pear"})
    by_search = client.get(CHANGELIST, {"q": "Fuji"})

    assert second.batch_code in by_fruit.text and first.batch_code not in by_fruit.text
    assert first.batch_code in by_search.text and second.batch_code not in by_search.text


def test_change_page_query_count_does_not_grow_with_history(acme, sources):
    client = acme.client("Manager")
    short = intake(acme, *sources)
    long = intake(acme, *sources)
    with acme:
        for n in range(20):
            services.edit(long, {"notes": f"note {n}"})
    client.get(change_url(short))  # warm per-process caches

    assert queries_for(client, change_url(long)) == queries_for(client, change_url(short))
    assert len(history_of(acme, long)) == 21


def test_add_page_renders_for_a_manager_and_its_query_count_does_not_grow(acme, sources):
    client = acme.client("Manager")
    page = client.get(ADD)
    few = queries_for(client, ADD)
    with acme:
        for n in range(20):
            create_packhouse(code=f"PX{n}", name=f"Shed {n}")
            create_grower(code=f"GX{n:03d}", name=f"Farm {n}")

    assert queries_for(client, ADD) == few
    assert page.status_code == 200
    assert 'name="bin_count"' in page.text and 'name="status"' not in page.text


def test_change_page_shows_status_code_and_weights_read_only(acme, sources):
    batch = intake(acme, *sources)

    page = acme.client("Manager").get(change_url(batch))

    assert page.status_code == 200
    assert batch.batch_code in page.text and "900.00" in page.text
    for read_only in ("status", "batch_code", "net_weight_kg", "class1_kg", "grower", "packhouse", "intake_date"):
        assert f'name="{read_only}"' not in page.text
    assert 'name="gross_weight_kg"' in page.text


# --- Adding: record_intake ---------------------------------------------------------------------------------------


def test_adding_records_an_intake_with_its_code_and_created_history(acme, sources):
    client = acme.client("Manager")
    form = add_form(acme, *sources, intake_date_0="2025-03-10", intake_date_1="10:00:00", harvest_date="2025-03-09")

    first = client.post(ADD, form)
    second = client.post(ADD, form)

    assert first.status_code == second.status_code == 302
    manager = acme.user("Manager")
    with acme:
        batches = list(Batch.objects.order_by("id"))
        assert [b.batch_code for b in batches] == ["PH1-20250310-0001", "PH1-20250310-0002"]
        batch = batches[0]
        assert (batch.status, batch.net_weight_kg, batch.created_by_id) == (
            Status.RECEIVED, Decimal("900.00"), manager.pk,
        )
        [created] = batch.history.all()
        assert (created.event, created.to_status, created.recorded_by_id) == ("created", "received", manager.pk)
        assert created.payload["batch_code"] == "PH1-20250310-0001"


def test_adding_without_an_intake_date_dates_the_code_today(acme, sources):
    response = acme.client("Manager").post(ADD, add_form(acme, *sources))

    assert response.status_code == 302
    with acme:
        batch = Batch.objects.get()
        assert batch.batch_code == f"PH1-{company_date(batch.intake_date):%Y%m%d}-0001"
        assert list(batch.history.values_list("event", flat=True)) == ["created"]


@pytest.mark.parametrize("overrides, field, message", [
    ({"tare_weight_kg": "1000.00"}, "tare_weight_kg", "less than the gross weight"),
    ({"tare_weight_kg": "1200.00"}, "tare_weight_kg", "less than the gross weight"),
    ({"bin_count": "0"}, "bin_count", "at least one bin"),
    ({"harvest_date": "2999-01-01"}, "harvest_date", "cannot be in the future"),
    ({"block": ""}, "block", "required"),
    ({"gross_weight_kg": "heavy"}, "gross_weight_kg", "number"),
])
def test_bad_intake_shows_an_error_beside_the_field_and_saves_nothing(acme, sources, overrides, field, message):
    response = acme.client("Manager").post(ADD, add_form(acme, *sources, **overrides))

    assert message in " ".join(form_errors(response)[field])
    with acme:
        assert not Batch.objects.exists()
        assert not BatchHistory.objects.exists()
        assert not BatchCodeCounter.objects.exists()


def test_an_inactive_grower_is_refused_beside_the_grower(acme, sources):
    packhouse, grower = sources
    with acme:
        update_grower(grower, active=False)

    response = acme.client("Manager").post(ADD, add_form(acme, packhouse, grower))

    assert "inactive" in " ".join(form_errors(response)["block"])
    with acme:
        assert not Batch.objects.exists()


# --- Changing: edit ----------------------------------------------------------------------------------------------


def test_correcting_writes_a_corrected_history_row_with_old_and_new_values(acme, sources):
    batch = intake(acme, *sources)

    response = acme.client("Manager").post(
        change_url(batch), change_form(acme, batch, bin_count="12", notes="Recounted at the bay", reason="Recount",
                                        confirm_unusual="on"),
    )

    assert response.status_code == 302
    with acme:
        batch.refresh_from_db()
        assert (batch.bin_count, batch.notes, batch.version) == (12, "Recounted at the bay", 2)
        corrected = batch.history.get(event="corrected")
        assert corrected.payload == {"changes": {"bin_count": [10, 12], "notes": ["", "Recounted at the bay"]},
                                     "reason": "Recount", "confirmed_unusual": [
                                         "900,00 kg net from 12 bins is 75,00 kg per bin; apple bins usually hold "
                                         "300–450 kg."]}
        assert corrected.recorded_by == acme.user("Manager")


def test_a_correction_in_the_admin_needs_a_reason(acme, sources):
    batch = intake(acme, *sources)

    response = acme.client("Manager").post(change_url(batch), change_form(acme, batch, bin_count="12"))

    assert "Say why" in " ".join(form_errors(response)["reason"])
    assert history_of(acme, batch) == ["created"]


def test_saving_without_changes_writes_no_history(acme, sources):
    batch = intake(acme, *sources)

    response = acme.client("Manager").post(change_url(batch), change_form(acme, batch))

    assert response.status_code == 302
    assert history_of(acme, batch) == ["created"]


def test_a_bad_edit_shows_an_error_beside_the_field_and_saves_nothing(acme, sources):
    batch = intake(acme, *sources)

    response = acme.client("Manager").post(
        change_url(batch), change_form(acme, batch, tare_weight_kg="1000.00", notes="should not stick", reason="r"),
    )

    assert "less than the gross weight" in " ".join(form_errors(response)["tare_weight_kg"])
    with acme:
        batch.refresh_from_db()
    assert (batch.tare_weight_kg, batch.notes, batch.version) == (Decimal("100.00"), "", 1)
    assert history_of(acme, batch) == ["created"]


def test_an_edit_that_leaves_the_graded_classes_above_the_net_weight_is_refused(acme, sources):
    batch = intake(acme, *sources)
    with acme:
        services.transition(batch, Status.GRADING)
        services.record_packout(batch, class1_kg=Decimal("500"), class2_kg=Decimal("200"),
                                class3_kg=Decimal("100"), waste_kg=Decimal("100"))

    response = acme.client("Manager").post(change_url(batch), change_form(acme, batch, gross_weight_kg="850.00",
                                                                         reason="r"))

    assert "exceeds the new net" in " ".join(form_errors(response)["gross_weight_kg"])
    with acme:
        batch.refresh_from_db()
    assert batch.gross_weight_kg == Decimal("1000.00")
    assert history_of(acme, batch) == ["created", "status_changed", "packout"]


def test_an_edit_made_meanwhile_by_someone_else_is_not_overwritten(acme, sources):
    batch = intake(acme, *sources)
    stale = change_form(acme, batch, bin_count="11", reason="r")  # the page as loaded at version 1
    with acme:
        services.edit(batch, {"notes": "changed by a clerk"})

    response = acme.client("Manager").post(change_url(batch), stale)

    assert "has changed since you loaded it" in " ".join(form_errors(response)["__all__"])
    with acme:
        batch.refresh_from_db()
    assert (batch.bin_count, batch.notes) == (10, "changed by a clerk")


def test_status_code_and_pack_out_cannot_be_changed_here(acme, sources):
    batch = intake(acme, *sources)
    code = batch.batch_code

    response = acme.client("Manager").post(change_url(batch), change_form(
        acme, batch, status="dispatched", batch_code="HACK-1", net_weight_kg="1", class1_kg="5", version="99",
    ))

    assert response.status_code == 302
    with acme:
        batch.refresh_from_db()
    assert (batch.status, batch.batch_code, batch.net_weight_kg, batch.class1_kg, batch.version) == (
        Status.RECEIVED, code, Decimal("900.00"), None, 1,
    )


def test_a_rejected_batch_is_view_only(acme, sources):
    batch = intake(acme, *sources)
    with acme:
        services.transition(batch, Status.REJECTED, reason="Hail damage")
    client = acme.client("Manager")

    page = client.get(change_url(batch))
    response = client.post(change_url(batch), change_form(acme, batch, bin_count="3"))

    assert page.status_code == 200 and 'name="bin_count"' not in page.text and "Hail damage" in page.text
    assert response.status_code == 403
    with acme:
        batch.refresh_from_db()
    assert batch.bin_count == 10


# --- History is append-only; nothing is deleted ---------------------------------------------------------------------


def test_history_inline_is_read_only(acme, sources):
    batch = intake(acme, *sources)
    with acme:
        services.edit(batch, {"notes": "first note"})
    client = acme.client("Manager")

    page = client.get(change_url(batch))
    response = client.post(change_url(batch), change_form(
        acme, batch, **{"history-0-event": "note", "history-0-payload": "{}", "history-0-DELETE": "on",
                        "history-1-DELETE": "on", "history-2-event": "created", "history-TOTAL_FORMS": "3"},
    ))

    assert page.status_code == 200
    assert "first note" in page.text
    assert 'name="history-0-event"' not in page.text and "history-0-DELETE" not in page.text
    assert 'name="history-MAX_NUM_FORMS" value="0"' in page.text  # no rows can be added
    assert response.status_code == 302
    with acme:
        assert list(batch.history.values_list("event", "payload")) == [
            ("created", batch.history.get(event="created").payload),
            ("edited", {"changes": {"notes": ["", "first note"]}}),
        ]


def test_a_refused_inline_rolls_back_the_edit(acme, sources):
    """The service writes while the form validates; a bad inline afterwards must undo it."""
    batch = intake(acme, *sources)
    form = change_form(acme, batch, bin_count="12")
    del form["history-TOTAL_FORMS"], form["history-INITIAL_FORMS"]

    response = acme.client("Manager").post(change_url(batch), form)

    assert response.status_code == 200
    assert "ManagementForm data is missing" in response.text
    with acme:
        batch.refresh_from_db()
    assert (batch.bin_count, batch.version) == (10, 1)
    assert history_of(acme, batch) == ["created"]


def test_batches_are_not_deleted_in_the_admin(acme, sources):
    batch = intake(acme, *sources)
    client = acme.client("Manager")

    assert client.post(f"{CHANGELIST}{batch.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [batch.pk],
                                    "post": "yes"}).status_code in (200, 302)
    with acme:
        assert Batch.objects.filter(pk=batch.pk).exists()


@pytest.mark.parametrize("url", ["/admin/batches/batchcodecounter/", "/admin/batches/batchhistory/"])
def test_internal_models_have_no_admin_of_their_own(acme, url):
    assert acme.client("Manager").get(url).status_code == 404


# --- Access ------------------------------------------------------------------------------------------------------


def test_a_clerk_made_staff_may_record_intake_but_not_touch_payments(acme, sources):
    """The admin keeps to the roles' permissions: a clerk's role adds and changes batches, nothing of finance."""
    with acme:
        clerk = acme.user("Clerk")
        clerk.is_staff = True
        clerk.save(update_fields=["is_staff"])
    client = acme.client("Clerk")

    response = client.post(ADD, add_form(acme, *sources))

    assert response.status_code == 302
    with acme:
        assert Batch.objects.get().created_by == clerk
    assert client.get("/admin/payments/growerpayment/").status_code == 403
    assert client.get("/admin/payments/growerpayment/add/").status_code == 403


@pytest.mark.parametrize("role", [None, "Clerk", "Finance"])
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(acme, sources, role):
    batch = intake(acme, *sources)
    client = acme.client(role)

    for url in (CHANGELIST, ADD, change_url(batch)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert client.post(ADD, add_form(acme, *sources)).status_code == 302
    assert client.post(change_url(batch), change_form(acme, batch, bin_count="99")).status_code == 302
    with acme:
        assert list(Batch.objects.values_list("bin_count", flat=True)) == [10]


def test_the_other_companys_batch_is_not_found(acme, globex):
    with globex:
        packhouse = create_packhouse(code="GX1", name="Globex shed")
        grower = create_grower(code="GX-1", name="Globex secret farm")
    secret = intake(globex, packhouse, grower, variety="Secret variety")
    client = acme.client("Manager")

    response = client.get(change_url(secret))

    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"] == "/admin/"
    followed = client.get(change_url(secret), follow=True).text
    assert "Secret variety" not in followed and secret.batch_code not in followed
    assert client.post(change_url(secret), {"bin_count": "1"}).status_code in (302, 404)
    with globex:
        secret.refresh_from_db()
    assert secret.bin_count == 10
