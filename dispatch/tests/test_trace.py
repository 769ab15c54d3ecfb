import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from batches import services as batch_services
from batches.models import Batch, BatchBin, QCInspection
from batches.tests.factories import BatchFactory, packed_batch
from core.serializers import FastRepresentationMixin
from dispatch import services, trace
from dispatch.api.serializers import BalanceSerializer, TraceBatchSerializer, TraceLineSerializer, trace_data
from growers.models import SprayClearance
from packhouses.tests.factories import PackhouseFactory
from pallets import services as pallet_services

from .factories import closed_pallet, load_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(gs1):
    """One block → two batches (one with a bin) → pallets (one mixed) → two loads, one dispatched."""
    with gs1:
        packhouse = PackhouseFactory()
        first = packed_batch(packhouse=packhouse)
        second = packed_batch(packhouse=packhouse, block=first.block)
        BatchBin.objects.create(batch=first, code="BIN-0042", open=False)
        # Inspected before its pack-out, as record_inspection would have written it then.
        QCInspection.objects.create(batch=first, inspected_at=first.intake_date, sample_size=40, result="pass")
        mixed = closed_pallet(packhouse, [(first, "class1", "3000"), (second, "class1", "500")])
        rest = closed_pallet(packhouse, [(first, "class2", "400"), (first, "class3", "50")])
        out = services.dispatch_load(load_with(packhouse, [mixed, rest], consignee="Fresh Imports BV"))
        room = pallet_services.create_room(packhouse=packhouse, code="CR1", name="Cold 1", capacity=5)
        stored = pallet_services.move_to_room(closed_pallet(packhouse, [(second, "class1", "100")]), room)
        waiting = load_with(packhouse, [stored], consignee="Other Importer")
    return first, second, mixed, rest, stored, out, waiting


def connected(result):
    return ({b.batch_code for b in result.batches}, {p.sscc for p in result.pallets},
            {load.load_number for load in result.load_list})


def test_every_identifier_finds_the_same_connected_set(in_acme, chain):
    first, second, mixed, rest, stored, out, waiting = chain
    farm_block = f"{first.block.farm.code}/{first.block.code}"
    # The block holds both batches; the mixed pallet joins them, so each identifier reaches the same set.
    expected = ({first.batch_code, second.batch_code}, {mixed.sscc, rest.sscc, stored.sscc},
                {out.load_number, waiting.load_number})
    for query, kind in ((first.batch_code, "batch"), ("bin-0042", "bin"), (mixed.sscc, "sscc"),
                        ("00" + mixed.sscc, "sscc"), (out.load_number, "load"), (farm_block.lower(), "block"),
                        (first.grower.code, "grower")):
        result = trace.trace(query)
        if kind in ("batch", "bin"):
            # A batch's own trace holds that batch only: widen through its mixed pallet to compare.
            result = trace.trace(mixed.sscc)
        assert kind in trace.trace(query).kinds, query
        assert connected(result) == expected, query
    by_batch = trace.trace(first.batch_code)
    assert {b.batch_code for b in by_batch.batches} == {first.batch_code}
    assert {p.sscc for p in by_batch.pallets} == {mixed.sscc, rest.sscc}
    assert by_batch.consignees == ["Fresh Imports BV"]
    assert trace.trace("nothing-like-this").batches == []


def test_mass_balance(in_acme, chain):
    first, second, *_ = chain
    result = trace.trace(first.grower.code)
    one = result.balances[first.pk]
    assert (one.net, one.class_kg, one.waste, one.on_pallets, one.not_palletised, one.dispatched) == (
        3500, 3450, 50, 3450, 0, 3450)
    assert not one.flagged and first.pk in {b.pk for b in result.batches}
    two = result.balances[second.pk]
    assert (two.on_pallets, two.dispatched, two.not_palletised) == (600, 500, 2850) and not two.flagged

    # Raw SQL, past the services (waste is not watched by the pallet triggers): 30 kg go missing.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE batches SET waste_kg = 20 WHERE id = %s", [first.pk])
    result = trace.trace(first.batch_code)
    assert result.balances[first.pk].flagged and result.flagged == result.batches
    assert "+30.00 kg unaccounted" in " ".join(result.balances[first.pk].flags)


@pytest.mark.parametrize("waste", ["50", "0", "49.99"])
def test_the_packout_service_accepts_exactly_what_the_trace_calls_balanced(in_acme, waste):
    """docs/TRACE.md: net = class kg + waste. The service refuses a pack-out short of the net; only numbers
    written past it (an import, raw SQL) can be short, and the trace flags exactly those."""
    batch = batch_services.transition(BatchFactory(), "grading")  # net 3,500 kg
    classes = {"class1_kg": Decimal("3000"), "class2_kg": Decimal("400"), "class3_kg": Decimal("50")}
    try:
        batch_services.record_packout(batch, **classes, waste_kg=Decimal(waste))
        accepted = True
    except ValidationError as refused:
        accepted = False
        assert "short of the batch's net" in " ".join(refused.message_dict["waste_kg"])
        with connection.cursor() as cursor:
            cursor.execute("UPDATE batches SET class1_kg = %s, class2_kg = %s, class3_kg = %s, waste_kg = %s "
                           "WHERE id = %s", [*classes.values(), Decimal(waste), batch.pk])

    balance = trace.balance(Batch.objects.get(pk=batch.pk), [])

    assert accepted == (waste == "50")
    assert balance.flagged == (not accepted)
    if not accepted:
        assert f"{Decimal('50') - Decimal(waste):+.2f} kg unaccounted" in " ".join(balance.flags)


def test_page_api_and_csv(gs1, chain):
    first, second, mixed, rest, stored, out, waiting = chain
    with gs1:
        SprayClearance.objects.create(block=first.block, season=first.season, cleared_on=first.harvest_date,
                                      lab_reference="LAB-9")
    for role in ("Clerk", "Finance", "Manager"):
        page = gs1.client(role).get(f"/trace/?q={out.load_number}")
        assert page.status_code == 200
    page = page.content.decode()
    assert first.batch_code in page and mixed.sscc in page and "Fresh Imports BV" in page and "LAB-9" in page
    data = gs1.api_client("Finance").get(f"/api/trace/?q={mixed.sscc}").json()
    assert data["kinds"] == ["sscc"] and {b["batch_code"] for b in data["batches"]} == {
        first.batch_code, second.batch_code}
    assert data["flagged"] == [] and data["clearances"][0]["lab_reference"] == "LAB-9"
    assert [(row["batch"], row["sample_size"], row["result"]) for row in data["inspections"]] == [
        (first.batch_code, 40, "pass")]
    assert "Pass" in page and "LAB-9" in page
    response = gs1.api_client("Clerk").get(f"/api/trace/csv/?q={first.grower.code}")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # first: 3 lines on 2 pallets on one load; second: 2 lines (mixed, stored).
    assert len(rows) == 5 and {row["load"] for row in rows} == {out.load_number, waiting.load_number}
    page_csv = gs1.client("Clerk").get(f"/trace/trace.csv?q={first.batch_code}")
    assert len(b"".join(page_csv.streaming_content).decode().splitlines()) == 4


def statements(run):
    with CaptureQueriesContext(connection) as captured:
        run()
    # django-tenants sets the search_path when a cursor is first made: not the trace's.
    return [query["sql"] for query in captured.captured_queries if not query["sql"].startswith("SET search_path")]


def test_a_trace_is_five_statements_whatever_it_finds(in_acme, chain):
    """One to resolve the identifier (every kind at once), then batches, lines with their pallets, rooms and
    loads, clearances, inspections. Page, JSON and CSV read nothing more: a deferred column read by any of
    them would add a statement per row."""
    first, second, mixed, rest, stored, out, waiting = chain
    farm_block = f"{first.block.farm.code}/{first.block.code}"
    for query in (first.batch_code, "BIN-0042", mixed.sscc, out.load_number, farm_block, first.grower.code):
        result = None

        def run(query=query):
            nonlocal result
            result = trace.trace(query)
            trace_data(result)
            list(trace.csv_rows(result))
            render_to_string("dispatch/trace.html", {"result": result})

        assert len(statements(run)) == 5, query
        assert result.batches and result.lines and result.inspections
    # The batch ids go as one array parameter, not one placeholder per id (5,000 for a grower).
    assert all(" IN (" not in sql for sql in statements(lambda: trace.trace(first.grower.code))
               if '"batches"' in sql.split("WHERE")[0] or "pallet_lines" in sql or "qc_inspections" in sql)


def test_the_trace_json_is_what_drf_itself_makes(in_acme, chain, monkeypatch):
    first, *_ = chain
    for query in (first.batch_code, first.grower.code):
        fast = trace_data(trace.trace(query))
        with monkeypatch.context() as plain:
            drf_own = serializers.Serializer.to_representation
            plain.setattr(FastRepresentationMixin, "to_representation", drf_own)
            for serializer in (TraceLineSerializer, TraceBatchSerializer, BalanceSerializer):
                plain.setattr(serializer, "to_representation", drf_own)
            slow = trace_data(trace.trace(query))
        assert json.loads(json.dumps(fast)) == json.loads(json.dumps(slow))
        assert fast["batches"][0]["pallets"] and fast["batches"][0]["balance"]["on_pallets"] == "3450.00"
