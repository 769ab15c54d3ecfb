"""QC services: the defect catalogue, record_inspection's rules, the qc_required gate and the DB backstop."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from batches import qc, services
from batches.models import BatchHistory, DefectType, QCDefect, QCInspection
from batches.qc_catalogue import DEFAULT_CATALOGUE, load_default_catalogue

from .factories import BatchFactory
from .qc_helpers import inspect, qc_world

pytestmark = pytest.mark.django_db


def test_the_default_catalogue_loads_once_and_covers_apples_pears_and_citrus(acme):
    with acme:
        added = load_default_catalogue()
        again = load_default_catalogue()

        assert len(added) == len(DEFAULT_CATALOGUE) and again == []
        fruits = set(DefectType.objects.values_list("fruit_type", flat=True))
        assert {"", "apple", "pear", "citrus"} <= fruits
        assert DefectType.objects.get(code="C-FCM").name == "False codling moth"
        assert set(DefectType.objects.values_list("severity", flat=True)) == {"major", "minor"}


def test_the_catalogue_leaves_a_companys_own_edits_alone(acme):
    with acme:
        load_default_catalogue()
        qc.update_defect_type(DefectType.objects.get(code="A-RUSSET"), severity="major")

        load_default_catalogue()

        assert DefectType.objects.get(code="A-RUSSET").severity == "major"


def test_create_defect_type_cleans_and_refuses_a_taken_or_bad_code(acme):
    with acme:
        defect = qc.create_defect_type(code=" stem-end ", name=" Stem-end rot ", fruit_type="citrus",
                                       severity="major")
        assert (defect.code, defect.name) == ("STEM-END", "Stem-end rot")

        with pytest.raises(ValidationError) as taken:
            qc.create_defect_type(code="stem-end", name="Again")
        with pytest.raises(ValidationError) as bad:
            qc.create_defect_type(code="no spaces!", name="Bad", severity="awful")

        assert "already has a defect STEM-END" in taken.value.message_dict["code"][0]
        assert {"code", "severity"} <= set(bad.value.message_dict)
        assert DefectType.objects.count() == 1


def test_a_counted_defect_keeps_its_code_and_fruit(acme):
    with acme:
        w = qc_world()
        inspect(w.batch, {"A-BRUISE": 3})
        bruise = DefectType.objects.get(code="A-BRUISE")

        with pytest.raises(ValidationError) as code:
            qc.update_defect_type(bruise, code="BRUISE")
        bruise.refresh_from_db()
        with pytest.raises(ValidationError) as fruit:
            qc.update_defect_type(bruise, fruit_type="pear")
        qc.update_defect_type(bruise, name="Bruise", active=False)

        assert "code" in code.value.message_dict and "Deactivate it" in fruit.value.message_dict["fruit_type"][0]
        bruise.refresh_from_db()
        assert (bruise.name, bruise.fruit_type, bruise.active) == ("Bruise", "apple", False)


def test_defects_for_a_fruit_are_its_own_and_those_of_any_fruit(acme):
    with acme:
        load_default_catalogue()
        qc.update_defect_type(DefectType.objects.get(code="A-LENTICEL"), active=False)

        codes = set(qc.defects_for("apple").values_list("code", flat=True))

        assert {"A-BRUISE", "DECAY", "HAIL"} <= codes
        assert "A-LENTICEL" not in codes and not any(code.startswith(("P-", "C-")) for code in codes)


def test_an_inspection_is_recorded_with_its_defects_and_a_history_row(acme):
    with acme:
        w = qc_world()
        clerk = acme.user("Clerk")

        inspection = inspect(w.batch, {"A-BRUISE": 4, "A-SUNBURN": 2, "DECAY": 0}, sample_size=120,
                             result="downgrade", brix=Decimal("12.5"), firmness_kg=Decimal("7.8"), by=clerk)

        counts = dict(QCDefect.objects.filter(inspection=inspection).values_list("defect_type__code", "count"))
        assert counts == {"A-BRUISE": 4, "A-SUNBURN": 2}
        assert (inspection.inspector, inspection.brix, inspection.result) == (clerk, Decimal("12.5"), "downgrade")
        row = BatchHistory.objects.get(batch=w.batch, event="qc")
        assert row.payload == {"inspection": inspection.pk, "result": "downgrade", "sample_size": 120,
                               "defects": {"A-BRUISE": 4, "A-SUNBURN": 2}}
        w.batch.refresh_from_db()
        assert w.batch.status == "received" and w.batch.version == 2


def test_a_reject_rejects_the_batch_naming_its_top_defects(acme):
    with acme:
        w = qc_world()

        inspect(w.batch, {"A-CODLING": 9, "A-BRUISE": 3, "HAIL": 1, "A-RUSSET": 1}, sample_size=60, result="reject")
        # Three at most, the most found first; a tie goes by code.

        w.batch.refresh_from_db()
        assert w.batch.status == "rejected"
        assert w.batch.rejection_reason == "QC reject: Codling moth 15.0%, Bruising 5.0%, Russet 1.7%"
        assert list(w.batch.history.values_list("event", flat=True)) == ["created", "qc", "status_changed"]


BAD_INPUT = [
    ({"sample_size": 50, "defects": {"A-BRUISE": 51}}, "defects", "More fruit with a defect than the 50 sampled"),
    ({"defects": {"A-BRUISE": -1}}, "defects", "cannot be negative"),
    ({"sample_size": 0}, "sample_size", "at least one fruit"),
    ({"sample_size": 10_001}, "sample_size", "at most 10,000"),
    ({"brix": Decimal("41")}, "brix", "from 0 to 40"),
    ({"brix": Decimal("-0.5")}, "brix", "from 0 to 40"),
    ({"firmness_kg": Decimal("31")}, "firmness_kg", "from 0 to 30"),
    ({"result": "maybe"}, "result", "not a QC result"),
    ({"defects": {"P-SCAB": 2}}, "defects", "Not a defect of apple: Pear scab"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_clear_message_and_saves_nothing(acme, overrides, field, message):
    with acme:
        w = qc_world()
        kwargs = {"sample_size": 100, "result": "pass", "defects": {}, **overrides}

        with pytest.raises(ValidationError) as refused:
            inspect(w.batch, kwargs.pop("defects"), **kwargs)

        assert message in " ".join(refused.value.message_dict[field])
        assert not QCInspection.objects.exists() and not QCDefect.objects.exists()
        w.batch.refresh_from_db()
        assert w.batch.status == "received" and w.batch.version == 1


def test_a_retired_defect_or_a_finished_batch_is_refused(acme):
    with acme:
        w = qc_world()
        qc.update_defect_type(w.defects["A-BRUISE"], active=False)
        with pytest.raises(ValidationError) as retired:
            inspect(w.batch, {"A-BRUISE": 1})
        services.transition(w.batch, "rejected", reason="Hail")
        with pytest.raises(ValidationError) as finished:
            inspect(w.batch, {})

        assert "No longer in the catalogue: A-BRUISE" in retired.value.message_dict["defects"][0]
        assert "this one is rejected" in finished.value.message_dict["status"][0]
        assert not QCInspection.objects.exists()


def test_an_inspection_cannot_be_dated_before_the_batch_or_in_the_future(acme):
    import datetime as dt

    with acme:
        w = qc_world()
        for moment, message in ((w.batch.intake_date - dt.timedelta(hours=1), "before the batch arrived"),
                                (w.batch.intake_date + dt.timedelta(days=2), "in the future")):
            with pytest.raises(ValidationError) as refused:
                inspect(w.batch, {}, inspected_at=moment)
            assert message in refused.value.message_dict["inspected_at"][0]


@pytest.fixture
def qc_required(acme):
    acme.company.qc_required = True
    acme.company.save(update_fields=["qc_required"])
    return acme


def test_with_qc_required_grading_waits_for_a_passing_or_downgrading_inspection(qc_required):
    with qc_required:
        first, second = qc_world().batch, BatchFactory()

        with pytest.raises(ValidationError) as refused:
            services.transition(first, "grading")
        assert services.grading_needs_qc(first) == services.QC_REQUIRED_MESSAGE
        assert refused.value.message_dict["to_status"] == [services.QC_REQUIRED_MESSAGE]

        inspect(first, {"A-BRUISE": 2}, result="downgrade")
        inspect(second, {}, result="pass")

        assert services.grading_needs_qc(first) is None
        assert services.transition(first, "grading").status == "grading"
        assert services.transition(second, "grading").status == "grading"


def test_without_qc_required_grading_needs_no_inspection(acme):
    with acme:
        batch = BatchFactory()

        assert services.grading_needs_qc(batch) is None
        assert services.transition(batch, "grading").status == "grading"


def test_the_database_refuses_a_count_above_the_sample_whoever_writes_it(acme):
    with acme:
        w = qc_world()
        inspection = inspect(w.batch, {"A-BRUISE": 5}, sample_size=10)

        with pytest.raises(IntegrityError, match="exceeds the sample size"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute("INSERT INTO qc_defects (inspection_id, defect_type_id, count) VALUES (%s, %s, 11)",
                           [inspection.pk, w.defects["A-SUNBURN"].pk])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO qc_defects (inspection_id, defect_type_id, count) VALUES (%s, %s, 10)",
                           [inspection.pk, w.defects["A-SUNBURN"].pk])

        assert QCDefect.objects.filter(inspection=inspection).count() == 2


def test_record_inspection_once_records_one_inspection_per_key(acme):
    from core.errors import Conflict

    with acme:
        w = qc_world()
        defects = {w.defects["A-BRUISE"]: 2}

        first, created = services.record_inspection_once("press-1", w.batch, sample_size=50, result="pass",
                                                         defects=defects)
        again, created_again = services.record_inspection_once("press-1", w.batch, sample_size=50, result="pass",
                                                               defects=defects)
        with pytest.raises(Conflict, match="already used for another inspection"):
            services.record_inspection_once("press-1", w.batch, sample_size=60, result="pass", defects=defects)

        assert (created, created_again) == (True, False)
        assert again.pk == first.pk
        assert QCInspection.objects.filter(batch=w.batch).count() == 1
        assert w.batch.history.filter(event="qc").count() == 1


@pytest.fixture
def committed_batch(acme):
    """A received apple batch and the catalogue, committed so that two clerks' connections see them."""
    from core.tests.helpers import finish, start_in_thread

    made = finish(*start_in_thread(acme.company, qc_world))
    assert "error" not in made, made
    yield made["value"]

    def cleanup():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE qc_defects, qc_inspections, defect_types, batch_history, batch_bins, batches, "
                           "batch_code_counters, blocks, farms, growers, packhouses RESTART IDENTITY CASCADE")

    done = finish(*start_in_thread(acme.company, cleanup))
    assert "error" not in done, done


def test_two_presses_at_once_record_one_inspection(acme, committed_batch):
    """The batch's lock is taken NOWAIT: a press that meets the other is told to try again, and trying again (the
    same key) gets the first inspection back. Never two."""
    import threading

    from core.errors import Conflict
    from core.tests.helpers import finish, start_in_thread

    w = committed_batch
    go = threading.Barrier(2)

    def press(wait=True):
        if wait:
            go.wait(10)
        return services.record_inspection_once("double-click", w.batch, sample_size=40, result="reject",
                                               defects={w.defects["A-CODLING"]: 9})

    outcomes = [finish(*run) for run in [start_in_thread(acme.company, press) for _ in range(2)]]
    retried = finish(*start_in_thread(acme.company, lambda: press(wait=False)))

    recorded = [outcome["value"] for outcome in outcomes if "value" in outcome]
    told_to_retry = [outcome["error"] for outcome in outcomes if "error" in outcome]
    assert all(isinstance(error, Conflict) and error.code == "batch_locked" for error in told_to_retry), outcomes
    assert len({inspection.pk for inspection, _ in recorded} | {retried["value"][0].pk}) == 1
    assert [created for _, created in recorded].count(True) == 1 and retried["value"][1] is False
    counted = finish(*start_in_thread(acme.company, lambda: (QCInspection.objects.count(),
                                                             w.batch.history.filter(event="qc").count())))
    assert counted["value"] == (1, 1)
