"""A manager's correction of a batch (services.correct_batch): the page, the rules, the veto hook, the totals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from batches import services
from batches.models import BatchHistory
from batches.signals import before_correction
from core.tenancy import company_today
from growers.tests.factories import block_for

from .factories import BatchFactory, packed_batch

pytestmark = pytest.mark.django_db


def url(batch):
    return f"/batches/{batch.pk}/correct/"


def form(batch, **overrides):
    data = {"block": str(batch.block), "harvest_date": batch.harvest_date.isoformat(),
            "bin_count": str(batch.bin_count),
            "gross_weight_kg": str(batch.gross_weight_kg), "tare_weight_kg": str(batch.tare_weight_kg),
            "notes": batch.notes, "reason": "", "version": str(batch.version)}
    data.update(overrides)
    return data


def unchanged(acme, batch):
    with acme:
        fresh = type(batch).objects.get(pk=batch.pk)
        return (fresh.gross_weight_kg, fresh.version, list(fresh.history.values_list("event", flat=True))) == (
            batch.gross_weight_kg, batch.version, ["created"])


@pytest.fixture
def batch(acme):
    with acme:
        return BatchFactory()  # 4,000 gross, 500 tare


def test_a_manager_corrects_the_gross_weight_with_a_reason(acme, batch):
    client = acme.client("Manager")

    response = client.post(url(batch), form(batch, gross_weight_kg="4200.00", reason="Ticket 4411 re-read"),
                           follow=True)

    html = response.content.decode()
    assert f"{batch.batch_code} corrected." in html
    assert "Ticket 4411 re-read" in html  # the history row, with its reason
    with acme:
        batch.refresh_from_db()
        row = batch.history.get(event="corrected")
    assert batch.net_weight_kg == Decimal("3700.00")
    assert row.payload == {"changes": {"gross_weight_kg": ["4000.00", "4200.00"]}, "reason": "Ticket 4411 re-read"}
    assert row.recorded_by.email == "manager@acme.test"


def test_the_batch_page_offers_correct_to_a_manager_only(acme, batch):
    assert url(batch) in acme.client("Manager").get(f"/batches/{batch.pk}/").content.decode()
    assert url(batch) not in acme.client("Clerk").get(f"/batches/{batch.pk}/").content.decode()
    assert url(batch) not in acme.client("Finance").get(f"/batches/{batch.pk}/").content.decode()


@pytest.mark.parametrize("role", ["Clerk", "Finance"])
def test_other_roles_may_not_correct(acme, batch, role):
    client = acme.client(role)

    assert client.get(url(batch)).status_code == 403
    assert client.post(url(batch), form(batch, gross_weight_kg="4200.00", reason="r")).status_code == 403
    assert unchanged(acme, batch)


def test_anonymous_goes_to_login(acme, batch):
    response = acme.client().post(url(batch), form(batch, gross_weight_kg="4200.00", reason="r"))

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert unchanged(acme, batch)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"gross_weight_kg": "4200.00"}, "reason", "This field is required"),
    ({"gross_weight_kg": "99999999999", "reason": "r"}, "gross_weight_kg", "digits"),
    ({"gross_weight_kg": "-1", "reason": "r"}, "gross_weight_kg", "greater than or equal to 0"),
    ({"tare_weight_kg": "4000.00", "reason": "r"}, "tare_weight_kg", "less than the gross weight"),
    ({"bin_count": "0", "reason": "r"}, "bin_count", "greater than or equal to 1"),
    ({"harvest_date": "2999-01-01", "reason": "r"}, "harvest_date", "harvested after it was delivered"),
    ({"block": "NOPE/B1", "reason": "r"}, "block", "No block NOPE/B1"),
    ({"reason": "r"}, None, "Nothing was changed"),
])
def test_bad_input_gives_a_message_and_changes_nothing(acme, batch, overrides, field, message):
    response = acme.client("Manager").post(url(batch), form(batch, **overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field if field else "__all__"])
    assert unchanged(acme, batch)


def test_another_growers_block_is_refused(acme, batch):
    with acme:
        other = BatchFactory().block  # a new grower's block

    response = acme.client("Manager").post(url(batch), form(batch, block=str(other), reason="r"))

    assert "another grower" in " ".join(response.context["form"].errors["block"])
    assert unchanged(acme, batch)


def test_the_other_company_sees_no_such_batch(acme, globex, batch):
    response = globex.client("Manager").get(url(batch))

    assert response.status_code == 404


def test_a_correction_needs_a_reason(acme, batch):
    with acme, pytest.raises(ValidationError) as refused:
        services.correct_batch(batch, {"gross_weight_kg": Decimal("4100")}, reason="   ")
    assert set(refused.value.message_dict) == {"reason"}


def test_edit_passes_a_correction_on_and_so_refuses_it_without_a_reason(acme, batch):
    with acme, pytest.raises(ValidationError) as refused:
        services.edit(batch, {"bin_count": 11})
    assert "reason" in refused.value.message_dict


def test_a_packed_batch_may_be_corrected_but_not_below_its_graded_classes(acme):
    with acme:
        batch = packed_batch()  # net 3,500: classes 3,450 and waste 50
        with pytest.raises(ValidationError, match="exceeds the new net"):
            services.correct_batch(batch, {"gross_weight_kg": Decimal("3949.99")}, reason="r")
        batch = services.correct_batch(batch, {"gross_weight_kg": Decimal("4100")}, reason="Ticket re-read")
        row = batch.history.get(event=BatchHistory.Event.CORRECTED)
    assert batch.net_weight_kg == Decimal("3600.00")
    # The pack-out still adds up to the net: the classes stand, the difference is waste, and the row says so.
    assert (batch.class1_kg, batch.class2_kg, batch.class3_kg, batch.waste_kg) == (
        Decimal("3000"), Decimal("400"), Decimal("50"), Decimal("150.00"))
    assert batch.packout_kg == batch.net_weight_kg
    assert row.payload["changes"]["waste_kg"] == ["50.00", "150.00"]


def test_a_correction_down_to_the_graded_classes_leaves_no_waste(acme):
    with acme:
        batch = services.correct_batch(packed_batch(), {"tare_weight_kg": Decimal("550")}, reason="Tare re-weighed")
    assert batch.net_weight_kg == Decimal("3450.00") and batch.waste_kg == Decimal("0.00")
    assert batch.packout_kg == batch.net_weight_kg


def test_the_database_refusal_becomes_a_message(acme, batch, monkeypatch):
    # The service's own check skipped: the CHECK constraint batches_tare_below_gross refuses, in words.
    monkeypatch.setattr(services, "_check_weights_and_bins", lambda *args: None)
    with acme, pytest.raises(ValidationError) as refused:
        services.correct_batch(batch, {"tare_weight_kg": Decimal("4000.00")}, reason="r", confirm_unusual=True)
    assert refused.value.message_dict == {"tare_weight_kg": ["The tare weight must be less than the gross weight."]}


def test_a_higher_layer_may_veto_a_correction(acme, batch):
    def settled(sender, batch, changes, reason, by, **kwargs):
        return f"Batch {batch.batch_code} is in a closed pool." if "gross_weight_kg" in changes else None

    before_correction.connect(settled, dispatch_uid="test-settled")
    try:
        with acme:
            with pytest.raises(ValidationError, match="closed pool"):
                services.correct_batch(batch, {"gross_weight_kg": Decimal("4100")}, reason="r")
            services.correct_batch(batch, {"notes": "fine"}, reason="note only")
    finally:
        before_correction.disconnect(dispatch_uid="test-settled")
    with acme:
        batch.refresh_from_db()
    assert batch.gross_weight_kg == Decimal("4000.00")
    assert batch.notes == "fine"


def test_a_correction_of_block_and_harvest_date_writes_one_row(acme, batch):
    with acme:
        fuji = block_for(batch.grower, "apple", "Fuji")
        day = company_today() - dt.timedelta(days=3)
        batch = services.correct_batch(batch, {"block": fuji, "harvest_date": day, "tare_weight_kg": Decimal("450")},
                                       reason="Wrong block and date")
        rows = list(BatchHistory.objects.filter(batch=batch).values_list("event", flat=True))
    assert rows == ["created", "corrected"]
    assert (batch.variety, batch.harvest_date, batch.net_weight_kg) == ("Fuji", day, Decimal("3550.00"))


def test_the_totals_follow_the_corrected_net(acme, batch, django_capture_on_commit_callbacks):
    from reconciliation.dashboard import dashboard_data
    from reconciliation.report import reconcile
    from reconciliation.services import refresh_intake_view

    today = company_today()
    with acme:
        before = reconcile(today - dt.timedelta(days=1), today).totals.net_kg
        with django_capture_on_commit_callbacks(execute=True):
            services.correct_batch(batch, {"gross_weight_kg": Decimal("4250.00")}, reason="Ticket re-read")
            refresh_intake_view()
        after = reconcile(today - dt.timedelta(days=1), today).totals.net_kg
        dashboard = dashboard_data()
    assert (before, after) == (Decimal("3500.00"), Decimal("3750.00"))
    assert dashboard["today"]["net_kg"] == Decimal("3750.00")


def test_wild_figures_need_a_confirmation_and_change_nothing_without_it(acme, batch):
    client = acme.client("Manager")
    wild = form(batch, gross_weight_kg="99999999", reason="Ticket re-read")

    refused = client.post(url(batch), wild)

    assert "kg per bin" in " ".join(refused.context["form"].errors["confirm_unusual"])
    assert 'data-testid="confirm-unusual"' in refused.content.decode()
    assert unchanged(acme, batch)

    client.post(url(batch), {**wild, "confirm_unusual": "on"})

    with acme:
        row = BatchHistory.objects.get(batch=batch, event="corrected")
    assert "kg per bin" in row.payload["confirmed_unusual"][0]


def test_the_api_refuses_wild_figures_without_confirm_unusual(acme, batch):
    client = acme.api_client("Manager")
    body = {"gross_weight_kg": "99999999.00", "reason": "Ticket re-read"}

    refused = client.patch(f"/api/batches/{batch.pk}/", body, format="json")

    assert refused.status_code == 400 and "confirm_unusual" in refused.content.decode()
    assert unchanged(acme, batch)
    confirmed = client.patch(f"/api/batches/{batch.pk}/", {**body, "confirm_unusual": True}, format="json")
    assert confirmed.status_code == 200
