"""Scanned bins (#16): the count follows the codes, a bin is in one open batch at a time, and a search finds it."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from batches import services
from batches.models import Batch, BatchBin
from core.tests.helpers import on_own_connection
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory

from .factories import BatchFactory, packed_batch

pytestmark = pytest.mark.django_db


def test_the_bin_count_follows_the_scanned_codes(acme):
    with acme:
        batch = BatchFactory(bins=["b-1", " B-2 ", "B-3"], bin_count=None)

        assert batch.bin_count == 3
        assert list(batch.bins.values_list("code", "open")) == [("B-1", True), ("B-2", True), ("B-3", True)]
        assert batch.history.get().payload["bins"] == ["B-1", "B-2", "B-3"]


def test_a_bin_scanned_twice_in_one_delivery_is_refused(acme):
    with acme, pytest.raises(ValidationError) as refused:
        BatchFactory(bins=["B-1", "b-1"], bin_count=None)

    assert refused.value.message_dict["bins"] == ["Scanned twice: B-1."]
    with acme:
        assert not Batch.objects.exists()


def test_a_bin_in_an_open_batch_is_refused_naming_that_batch(acme):
    with acme:
        first = BatchFactory(bins=["B-1"], bin_count=None)
        with pytest.raises(ValidationError) as refused:
            BatchFactory(bins=["B-2", "B-1"], bin_count=None)

        assert refused.value.message_dict["bins"] == [f"Already in an open batch: B-1 ({first.batch_code})."]
        assert Batch.objects.count() == 1


@pytest.mark.parametrize("to", ["packed", "rejected"])
def test_a_bin_is_free_again_once_its_batch_is_packed_or_rejected(acme, to):
    with acme:
        if to == "packed":
            first = packed_batch(bins=["B-1", "B-9"], bin_count=None)
        else:
            first = services.transition(BatchFactory(bins=["B-1", "B-9"], bin_count=None), "rejected",
                                        reason="Hail damage")
        assert not first.bins.filter(open=True).exists()

        again = BatchFactory(bins=["B-9"], bin_count=None)

        assert again.bins.get().open
        assert BatchBin.objects.filter(code="B-9").count() == 2


def test_search_by_bin_code_finds_its_batch_on_the_page_and_in_the_api(acme):
    with acme:
        packhouse = PackhouseFactory(code="PH7")
        batch = BatchFactory(packhouse=packhouse, bins=["SCAN-42"], bin_count=None)
        other = BatchFactory(packhouse=packhouse, bins=["SCAN-43"], bin_count=None)

    html = acme.client("Clerk").get("/batches/", {"q": "scan-42"}).content.decode()
    items = acme.api_client("Finance").get("/api/batches/", {"q": "SCAN-42"}).json()["items"]

    assert batch.batch_code in html and other.batch_code not in html
    assert [row["batch_code"] for row in items] == [batch.batch_code]
    # A batch code's prefix still finds batches, as before.
    by_code = acme.api_client("Finance").get("/api/batches/", {"q": "ph7-"}).json()["items"]
    assert {row["batch_code"] for row in by_code} == {batch.batch_code, other.batch_code}


# --- A race between two intakes: the partial unique index decides ---------------


@pytest.fixture
def committed_site(acme):
    """A grower's block and a packhouse, committed (two connections must see them); removed afterwards."""

    def make():
        with tenant_context(acme.company):
            grower = GrowerFactory()
            return block_for(grower), PackhouseFactory()

    def clean_up():
        with tenant_context(acme.company), connection.cursor() as cursor:
            cursor.execute("TRUNCATE batch_bins, batch_history, batches, batch_code_counters, blocks, farms, growers, "
                           "packhouses RESTART IDENTITY CASCADE")
            cursor.execute("DELETE FROM procrastinate_jobs WHERE args->>'schema' = %s", [acme.schema])

    try:
        yield on_own_connection(make)
    finally:
        on_own_connection(clean_up)


@pytest.mark.timeout(120)
def test_the_database_refuses_the_same_bin_in_two_open_batches_at_once(acme, committed_site):
    """Both intakes pass the service's check (neither sees the other's bin); the index lets one in."""
    block, packhouse = committed_site
    first_inserted, outcome = threading.Event(), {}

    def intake():
        return BatchFactory(block=block, packhouse=packhouse, bins=["RACE-1"], bin_count=None)

    def first():
        try:
            with tenant_context(acme.company), transaction.atomic():
                outcome["first"] = intake().batch_code
                first_inserted.set()
                # Hold the transaction open until the second intake waits on the index for it.
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not _someone_waits_for_a_lock():
                    time.sleep(0.05)
        except BaseException as exc:  # reported by the assertions below
            outcome["first_error"] = exc
            first_inserted.set()
        finally:
            connection.close()

    def second():
        with tenant_context(acme.company):
            try:
                return intake().batch_code
            except ValidationError as exc:
                return exc.message_dict

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inserted.wait(60)
    refused = on_own_connection(second)
    thread.join(60)

    assert "first_error" not in outcome, outcome.get("first_error")
    assert refused == {"bins": ["One of these bins was put in another open batch a moment ago; reload and scan again."]}

    def state():
        with tenant_context(acme.company):
            return (list(Batch.objects.values_list("batch_code", flat=True)),
                    list(BatchBin.objects.values_list("code", "open")))

    assert on_own_connection(state) == ([outcome["first"]], [("RACE-1", True)])


def _someone_waits_for_a_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database() AND pid <> pg_backend_pid())")
        return cursor.fetchone()[0]
