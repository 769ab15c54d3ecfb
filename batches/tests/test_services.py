import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from batches import services
from batches.models import Batch, BatchHistory, Status
from batches.tests.factories import with_block
from core.errors import Conflict
from core.tenancy import company_today
from core.tests.helpers import start_in_thread
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory

from .factories import BatchFactory, packed_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_acme(acme):
    with acme:
        yield acme


def intake(**overrides):
    values = {
        "grower": overrides.pop("grower", None) or GrowerFactory(),
        "packhouse": overrides.pop("packhouse", None) or PackhouseFactory(),
        "fruit_type": "pear", "variety": "Forelle", "harvest_date": company_today(),
        "bin_count": 12, "gross_weight_kg": Decimal("4800.00"), "tare_weight_kg": Decimal("600.00"),
    }
    values.update(overrides)
    return services.record_intake(**with_block(values))


def events(batch):
    return list(BatchHistory.objects.filter(batch=batch).values_list("event", flat=True))


# --- record_intake -------------------------------------------------------------


def test_intake_gets_a_readable_code_and_a_created_row(in_acme):
    clerk = in_acme.user("Clerk")
    packhouse = PackhouseFactory(code="PH7")

    batch = intake(packhouse=packhouse, by=clerk)

    local_day = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=2))).strftime("%Y%m%d")
    assert batch.batch_code == f"PH7-{local_day}-0001"  # acme's time zone is Africa/Johannesburg (UTC+2)
    assert batch.status == Status.RECEIVED
    assert batch.net_weight_kg == Decimal("4200.00")
    created = BatchHistory.objects.get(batch=batch)
    assert (created.event, created.to_status, created.recorded_by) == ("created", "received", clerk)
    assert created.payload["gross_weight_kg"] == "4800.00"


def test_codes_count_up_per_packhouse_and_day(in_acme):
    one, two = PackhouseFactory(code="PHA"), PackhouseFactory(code="PHB")

    codes = [intake(packhouse=one).batch_code, intake(packhouse=one).batch_code, intake(packhouse=two).batch_code]

    assert [code.rsplit("-", 1)[1] for code in codes] == ["0001", "0002", "0001"]
    assert all(re.fullmatch(r"PH[AB]-\d{8}-\d{4}", code) for code in codes)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tare_weight_kg": Decimal("4800.00")}, "tare_weight_kg"),
        ({"tare_weight_kg": Decimal("5000.00")}, "tare_weight_kg"),
        ({"gross_weight_kg": Decimal("-1.00")}, "gross_weight_kg"),
        ({"bin_count": 0}, "bin_count"),
        ({"harvest_date": dt.date.today() + dt.timedelta(days=3)}, "harvest_date"),
        ({"fruit_type": "banana"}, "fruit_type"),
        ({"variety": ""}, "variety"),
        ({"gross_weight_kg": Decimal("123456789.00")}, "gross_weight_kg"),
        ({"intake_date": timezone.now() + dt.timedelta(hours=1)}, "intake_date"),
    ],
)
def test_intake_refuses_bad_input_and_saves_nothing(in_acme, overrides, field):
    grower, packhouse = GrowerFactory(), PackhouseFactory()

    with pytest.raises(ValidationError) as refused:
        intake(grower=grower, packhouse=packhouse, **overrides)

    assert field in refused.value.message_dict
    assert not Batch.objects.exists() and not BatchHistory.objects.exists()


def test_intake_refuses_an_inactive_grower_or_packhouse(in_acme):
    grower = GrowerFactory(active=False)
    packhouse = PackhouseFactory(active=False)

    with pytest.raises(ValidationError) as refused:
        intake(grower=grower, packhouse=packhouse)

    assert {"block", "packhouse"} <= set(refused.value.message_dict)
    assert "inactive" in refused.value.message_dict["block"][0]


def test_intake_and_its_history_commit_together(in_acme, monkeypatch):
    def history_fails(*args, **kwargs):
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(services, "_history", history_fails)

    with pytest.raises(RuntimeError):
        intake()

    assert not Batch.objects.exists()


# --- transition --------------------------------------------------------------------


def test_the_whole_happy_path_writes_one_row_per_change(in_acme):
    batch = packed_batch()
    batch = services.transition(batch, "dispatched")

    assert batch.status == "dispatched"
    assert events(batch) == ["created", "status_changed", "packout", "status_changed", "status_changed",
                             "status_changed"]
    moves = list(BatchHistory.objects.filter(batch=batch, event="status_changed")
                 .values_list("from_status", "to_status"))
    assert moves == [("received", "grading"), ("grading", "packing"), ("packing", "packed"),
                     ("packed", "dispatched")]
    assert batch.version == 6


FORBIDDEN = [
    ("received", "packing"), ("received", "packed"), ("received", "dispatched"), ("received", "received"),
    ("grading", "received"), ("grading", "packed"), ("grading", "dispatched"),
    ("packing", "received"), ("packing", "grading"), ("packing", "rejected"), ("packing", "dispatched"),
    ("packed", "received"), ("packed", "packing"), ("packed", "rejected"),
    ("dispatched", "packed"), ("dispatched", "received"), ("dispatched", "rejected"),
    ("rejected", "received"), ("rejected", "grading"),
]
PATH = {
    "received": [], "grading": ["grading"], "packing": ["grading", "packing"],
    "packed": ["grading", "packing", "packed"], "dispatched": ["grading", "packing", "packed", "dispatched"],
}


def batch_in(status):
    if status == "rejected":
        return services.transition(BatchFactory(), "rejected", reason="Hail damage")
    batch = BatchFactory()
    for step in PATH[status]:
        if step == "packing":
            batch = services.record_packout(batch, class1_kg=Decimal("3000"), class2_kg=Decimal("0"),
                                            class3_kg=Decimal("0"), waste_kg=Decimal("500"))
        batch = services.transition(batch, step)
    return batch


@pytest.mark.parametrize(("from_status", "to_status"), FORBIDDEN)
def test_forbidden_moves_are_refused_and_change_nothing(in_acme, from_status, to_status):
    batch = batch_in(from_status)
    rows_before = BatchHistory.objects.count()

    with pytest.raises(ValidationError) as refused:
        services.transition(batch, to_status)

    assert "cannot move" in refused.value.message_dict["to_status"][0]
    batch.refresh_from_db()
    assert batch.status == from_status
    assert BatchHistory.objects.count() == rows_before


def test_unknown_status_is_refused(in_acme):
    with pytest.raises(ValidationError, match="not a status"):
        services.transition(BatchFactory(), "eaten")


def test_rejecting_needs_a_reason(in_acme):
    batch = BatchFactory()

    with pytest.raises(ValidationError) as refused:
        services.transition(batch, "rejected", reason="   ")

    assert "reason" in refused.value.message_dict
    batch = services.transition(batch, "rejected", reason="Fruit fly found")
    assert batch.rejection_reason == "Fruit fly found"
    assert BatchHistory.objects.filter(batch=batch, event="status_changed").get().payload == {
        "reason": "Fruit fly found"
    }


def test_grading_batch_may_be_rejected(in_acme):
    batch = services.transition(BatchFactory(), "grading")

    assert services.transition(batch, "rejected", reason="Bruising").status == "rejected"


def test_packed_needs_a_packout(in_acme):
    batch = services.transition(services.transition(BatchFactory(), "grading"), "packing")

    with pytest.raises(ValidationError, match="pack-out"):
        services.transition(batch, "packed")


def test_stale_version_is_a_conflict(in_acme):
    batch = BatchFactory()
    services.transition(batch, "grading")

    with pytest.raises(Conflict, match="has changed"):
        services.transition(batch, "rejected", reason="late", expected_version=1)


def run_in_thread(company, work):
    thread, outcome = start_in_thread(company, work)
    thread.join(timeout=30)
    return outcome


@pytest.fixture
def committed_batch(acme):
    """A batch committed for real, so that other connections see it; removed afterwards."""
    made = run_in_thread(acme.company, lambda: BatchFactory())
    yield made["value"]

    def cleanup():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE batch_history, batches, batch_code_counters, growers, packhouses RESTART IDENTITY CASCADE"
            )

    run_in_thread(acme.company, cleanup)


def test_two_concurrent_transitions_cannot_both_win(acme, committed_batch):
    holding = threading.Event()
    release = threading.Event()

    def slow_winner():
        with transaction.atomic():
            moved = services.transition(committed_batch, "grading")
            holding.set()
            release.wait(10)  # still inside the transaction: the row stays locked
            return moved

    winner, won = start_in_thread(acme.company, slow_winner)
    assert holding.wait(10)

    loser = run_in_thread(acme.company, lambda: services.transition(committed_batch, "rejected", reason="dup"))

    release.set()
    winner.join(10)
    assert isinstance(loser.get("error"), Conflict)
    assert "being changed by someone else" in loser["error"].message
    assert won["value"].status == "grading"

    def final_state():
        batch = Batch.objects.get(pk=committed_batch.pk)
        moves = BatchHistory.objects.filter(batch=batch, event="status_changed").values_list("to_status", flat=True)
        return batch.status, list(moves)

    assert run_in_thread(acme.company, final_state)["value"] == ("grading", ["grading"])


# --- pack-out and edit ---------------------------------------------------------------


def test_packout_may_not_exceed_net(in_acme):
    batch = services.transition(BatchFactory(), "grading")  # net 3,500 kg

    with pytest.raises(ValidationError, match="more than the batch's net"):
        services.record_packout(batch, class1_kg=Decimal("3000"), class2_kg=Decimal("400"),
                                class3_kg=Decimal("100"), waste_kg=Decimal("0.01"))

    batch.refresh_from_db()
    assert batch.class1_kg is None
    assert events(batch) == ["created", "status_changed"]


def test_packout_only_while_grading_or_packing(in_acme):
    with pytest.raises(ValidationError, match="grading or packing"):
        services.record_packout(BatchFactory(), class1_kg=Decimal("1"), class2_kg=Decimal("0"),
                                class3_kg=Decimal("0"), waste_kg=Decimal("0"))


def test_packout_records_values_and_percent(in_acme):
    batch = services.transition(BatchFactory(), "grading")

    batch = services.record_packout(batch, class1_kg=Decimal("2800"), class2_kg=Decimal("350"),
                                    class3_kg=Decimal("0"), waste_kg=Decimal("350"))

    assert batch.packout_percent == Decimal("90.0")  # 3,150 of 3,500 kg
    row = BatchHistory.objects.get(batch=batch, event="packout")
    assert row.payload == {"class1_kg": "2800", "class2_kg": "350", "class3_kg": "0", "waste_kg": "350"}


def test_packout_below_net_is_refused_and_says_what_the_waste_is(in_acme):
    batch = services.transition(BatchFactory(), "grading")  # net 3,500 kg

    with pytest.raises(ValidationError) as refused:
        services.record_packout(batch, class1_kg=Decimal("2800"), class2_kg=Decimal("350"),
                                class3_kg=Decimal("0"), waste_kg=Decimal("200"))

    message = " ".join(refused.value.message_dict["waste_kg"])
    assert "150.00 kg short" in message and "the waste is 350.00 kg" in message
    batch.refresh_from_db()
    assert batch.class1_kg is None
    assert events(batch) == ["created", "status_changed"]


def test_a_correction_writes_old_and_new_values_and_the_reason(in_acme):
    manager = in_acme.user("Manager")
    batch = BatchFactory(variety="Gala", bin_count=10)
    fuji = block_for(batch.grower, "apple", "Fuji")

    batch = services.correct_batch(batch, {"block": fuji, "bin_count": 11, "notes": ""}, reason="Wrong block",
                                   by=manager)

    row = BatchHistory.objects.get(batch=batch, event="corrected")
    assert row.payload == {"changes": {"block": [f"{batch.grower.code}-F1/B01", str(fuji)], "bin_count": [10, 11]},
                           "reason": "Wrong block"}
    assert (batch.fruit_type, batch.variety) == ("apple", "Fuji")
    assert row.recorded_by == manager
    assert batch.version == 2


def test_edit_with_no_change_writes_nothing(in_acme):
    batch = BatchFactory(variety="Gala")

    services.edit(batch, {"notes": batch.notes})
    services.correct_batch(batch, {"block": batch.block, "notes": batch.notes}, reason="Checked")

    assert events(batch) == ["created"]


def test_edit_recomputes_net_and_refuses_bad_weights(in_acme):
    batch = BatchFactory()

    batch = services.correct_batch(batch, {"gross_weight_kg": Decimal("4100.00")}, reason="Ticket re-read")
    assert batch.net_weight_kg == Decimal("3600.00")

    with pytest.raises(ValidationError) as refused:
        services.correct_batch(batch, {"tare_weight_kg": Decimal("4100.00")}, reason="Ticket re-read")
    assert "tare_weight_kg" in refused.value.message_dict


def test_edit_refuses_fields_outside_the_rules(in_acme):
    batch = BatchFactory()

    with pytest.raises(ValidationError) as refused:
        services.edit(batch, {"status": "dispatched", "batch_code": "X"})

    assert set(refused.value.message_dict) == {"status", "batch_code"}
    batch.refresh_from_db()
    assert batch.status == "received"


def test_edit_may_not_shrink_net_below_the_packout(in_acme):
    batch = packed_batch()  # pack-out 3,500 kg

    with pytest.raises(ValidationError, match="exceeds the new net"):
        services.correct_batch(batch, {"gross_weight_kg": Decimal("3900.00")}, reason="Ticket re-read")


def test_dispatched_and_rejected_batches_are_frozen(in_acme):
    rejected = services.transition(BatchFactory(), "rejected", reason="Hail")

    with pytest.raises(ValidationError, match="no longer be edited"):
        services.edit(rejected, {"variety": "Fuji"})
