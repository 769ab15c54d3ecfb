"""The database itself refuses what must never be true, whoever writes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from batches.models import Batch, BatchHistory
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory

from .factories import BatchFactory

pytestmark = pytest.mark.django_db

SEED_REPORT_INDEXES = {
    ("batches", "ix_batches_grower_harvest_status"), ("batches", "ix_batches_intake_date"),
    ("batches", "ix_batches_fruit_type"), ("batch_history", "ix_batch_history_batch_recorded"),
    ("grower_payments", "ix_grower_payments_grower_date"), ("grower_payments", "ix_grower_payments_paid_date"),
    ("grower_payments", "ix_grower_payments_created_at"),
}


def test_tables_and_indexes_carry_the_seed_reports_names(acme):
    with acme, connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = %s", [acme.schema])
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'ix_batches_grower_harvest_status'",
            [acme.schema],
        )
        composite = cursor.fetchone()[0]

    assert SEED_REPORT_INDEXES <= indexes
    assert "(grower_id, harvest_date, status)" in composite


def test_net_weight_is_a_stored_generated_column(acme):
    with acme, connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_generated, generation_expression FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'batches' AND column_name = 'net_weight_kg'",
            [acme.schema],
        )
        generated, expression = cursor.fetchone()

    assert generated == "ALWAYS"
    assert "gross_weight_kg - tare_weight_kg" in expression


def raw_batch(**overrides):
    values = {"batch_code": "RAW-1", "grower": GrowerFactory(), "packhouse": PackhouseFactory(),
              "fruit_type": "apple", "variety": "Gala", "harvest_date": dt.date(2026, 3, 1), "bin_count": 5,
              "gross_weight_kg": Decimal("2000"), "tare_weight_kg": Decimal("250")}
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "constraint"),
    [
        ({"bin_count": 0}, "batches_bins_positive"),
        ({"gross_weight_kg": Decimal("-1"), "tare_weight_kg": Decimal("-2")}, "batches_weights_non_negative"),
        ({"tare_weight_kg": Decimal("2000")}, "batches_tare_below_gross"),
        ({"class1_kg": Decimal("-1")}, "batches_packout_non_negative"),
        ({"class1_kg": Decimal("1700"), "waste_kg": Decimal("50.01")}, "batches_packout_within_net"),
        ({"status": "eaten"}, "batches_status_valid"),
        ({"fruit_type": "banana"}, "batches_fruit_type_valid"),
        ({"status": "rejected"}, "batches_rejected_has_reason"),
        ({"status": "packed"}, "batches_packed_has_packout"),
    ],
)
def test_the_database_refuses_impossible_batches(acme, overrides, constraint):
    with acme:
        values = raw_batch(**overrides)
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            Batch.objects.create(**values)


def test_batch_codes_are_unique(acme):
    with acme:
        Batch.objects.create(**raw_batch())
        with pytest.raises(IntegrityError, match="batch_code"), transaction.atomic():
            Batch.objects.create(**raw_batch())


def test_packout_exactly_the_net_is_allowed(acme):
    with acme:
        batch = Batch.objects.create(**raw_batch(class1_kg=Decimal("1700"), waste_kg=Decimal("50")))

    assert batch.packout_kg == Decimal("1750")


def test_history_is_append_only(acme):
    with acme:
        batch = BatchFactory()
        row = BatchHistory.objects.get(batch=batch)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            BatchHistory.objects.filter(pk=row.pk).update(event="note")
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            BatchHistory.objects.filter(pk=row.pk).delete()
        assert BatchHistory.objects.get(pk=row.pk).event == "created"


def test_growers_and_packhouses_with_batches_cannot_be_deleted(acme):
    from django.db.models import ProtectedError

    with acme:
        batch = BatchFactory()
        with pytest.raises(ProtectedError):
            batch.grower.delete()
        with pytest.raises(ProtectedError):
            batch.packhouse.delete()
