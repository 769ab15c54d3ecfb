"""Concurrent intakes and the triggers that keep batch_day_totals: different growers never wait for each other.

Each intake's row trigger adds the batch to its own (day, grower, fruit, variety, packhouse, shape) row of
batch_day_totals with INSERT ... ON CONFLICT DO UPDATE, so two growers' intakes lock different rows. These tests
hold one intake's transaction open and watch the other through pg_stat_activity and pg_locks. What two intakes
do share: the packhouse's batch-code counter of the day, and, in the first seconds after the intake view was
refreshed, the queueing of the next refresh (docs/PERFORMANCE.md, "Against their own SQL").
"""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from batches import services
from core.jobs import defer_for_company
from core.tests.helpers import finish, start_in_thread
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory
from reconciliation.tasks import refresh_intake_view

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(acme):
    """Two packhouses and two growers with an apple block each, committed so that other connections see them."""
    def make():
        return [PackhouseFactory(), PackhouseFactory()], [block_for(GrowerFactory()), block_for(GrowerFactory())]

    made = finish(*start_in_thread(acme.company, make))
    assert "error" not in made, made
    yield made["value"]

    def cleanup():
        with connection.cursor() as cursor:
            # batches' own TRUNCATE trigger empties batch_day_totals.
            cursor.execute("TRUNCATE batch_history, batch_bins, batches, batch_code_counters, "
                           "blocks, farms, growers, packhouses RESTART IDENTITY CASCADE")

    for work in (cleanup, forget_refresh_jobs):
        done = finish(*start_in_thread(acme.company, work))
        assert "error" not in done, done


def forget_refresh_jobs():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM public.procrastinate_jobs WHERE queueing_lock = %s",
                       ["reconciliation.tasks.refresh_intake_view:acme"])


@pytest.fixture
def refresh_waiting(acme, committed):
    """The steady state of a busy weighbridge: the view's next refresh is already queued, and intakes join it."""
    queued = finish(*start_in_thread(acme.company, lambda: defer_for_company(refresh_intake_view, once=True,
                                                                              delay=300)))
    assert "error" not in queued, queued
    return committed


def intake(packhouse, block):
    return services.record_intake(
        packhouse=packhouse, block=block, harvest_date=dt.date.today() - dt.timedelta(days=1), bin_count=10,
        gross_weight_kg=Decimal("4000.00"), tare_weight_kg=Decimal("500.00"), confirm_unusual=True,
    )


def held_intake(company, packhouse, block):
    """An intake whose transaction stays open until release is set: its row locks stay held."""
    recorded, release = threading.Event(), threading.Event()

    def work():
        with transaction.atomic():
            intake(packhouse, block)
            recorded.set()
            release.wait(30)
        return True

    run = start_in_thread(company, work)
    assert recorded.wait(30), finish(*run, seconds=1)
    return run, release


def lock_waits(company):
    """The statements of this database's backends that wait for a lock, with the relation they wait on."""
    def read():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.query, l.locktype, l.relation::regclass::text FROM pg_stat_activity a "
                "JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted WHERE a.datname = current_database()"
            )
            return cursor.fetchall()

    return finish(*start_in_thread(company, read))["value"]


def test_two_growers_at_two_packhouses_do_not_wait_for_each_other(acme, refresh_waiting):
    (first_house, second_house), (first_block, second_block) = refresh_waiting
    holder, release = held_intake(acme.company, first_house, first_block)
    try:
        other = start_in_thread(acme.company, lambda: intake(second_house, second_block))
        # It commits while the first intake's transaction, with its batch_day_totals row, is still open.
        outcome = finish(*other, seconds=20)
        waits = lock_waits(acme.company)
    finally:
        release.set()
    assert "error" not in finish(*holder)

    assert "value" in outcome, (outcome, waits)
    assert outcome["value"].batch_code.startswith(second_house.code)
    assert waits == []


def waits_of_a_second_intake(company, holder_intake, second_intake):
    """Hold one intake open, start another, and return what the other waits for, then both outcomes."""
    holder, release = held_intake(company, *holder_intake)
    try:
        other = start_in_thread(company, lambda: intake(*second_intake))
        waits = []
        for _ in range(100):
            waits = lock_waits(company)
            if waits:
                break
            time.sleep(0.05)
    finally:
        release.set()
    return waits, [finish(*holder), finish(*other)]


def test_two_growers_at_one_packhouse_wait_only_for_the_batch_code_counter(acme, refresh_waiting):
    """The one row they share is the packhouse's counter of the day: codes are numbered per packhouse and day."""
    (house, _), (first_block, second_block) = refresh_waiting
    waits, outcomes = waits_of_a_second_intake(acme.company, (house, first_block), (house, second_block))

    assert all("error" not in outcome for outcome in outcomes), outcomes
    assert len(waits) == 1, waits
    query, locktype, _relation = waits[0]
    assert query.startswith("INSERT INTO batch_code_counters"), query
    assert "batch_day_totals" not in query
    assert locktype == "transactionid"
    codes = sorted(outcome["value"].batch_code for outcome in outcomes[1:])
    assert codes[0].endswith("-0002"), "the second intake is numbered after the first committed"


def test_right_after_a_refresh_the_next_intake_waits_for_the_first_to_queue_the_next_one(acme, committed):
    """No refresh waiting: the first intake queues it (unique queueing lock), the second waits for that commit and
    then joins the job. Once per refresh window (INTAKE_VIEW_REFRESH_SECONDS), never on batch_day_totals."""
    (first_house, second_house), (first_block, second_block) = committed
    waits, outcomes = waits_of_a_second_intake(acme.company, (first_house, first_block), (second_house, second_block))

    assert all("error" not in outcome for outcome in outcomes), outcomes
    assert len(waits) == 1, waits
    query, locktype, _relation = waits[0]
    assert "procrastinate_defer_jobs" in query and "refresh_intake_view" in query, query
    assert locktype == "transactionid"
