"""Closing a pool as a queued job: the request queues it, the worker closes it, the page and the API follow it."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from procrastinate.contrib.django import app, procrastinate_app
from procrastinate.periodic import PeriodicRegistry

from core.errors import Conflict
from core.tests.helpers import on_own_connection
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from pools import closing as closing_progress
from pools import services
from pools.models import PoolBatch, PoolClosing, PoolHistory

from .helpers import make_pool, packed, run_queued_closes

pytestmark = pytest.mark.django_db


def deliver(acme, n, variety="Gala"):
    with acme:
        packhouse = PackhouseFactory()
        return [packed(GrowerFactory(), packhouse, net=1000, class1=800, class2=100, variety=variety)
                for _ in range(n)]


def test_close_pool_reports_each_step_in_order_and_costs_the_same_queries_for_more_batches(acme):
    deliver(acme, 2)
    with acme:
        small = make_pool("P-SMALL", variety="Gala")
    deliver(acme, 6, variety="Fuji")
    with acme:
        big = make_pool("P-BIG", variety="Fuji")
        steps = []
        with CaptureQueriesContext(connection) as two:
            services.close_pool(small, progress=steps.append)
        with CaptureQueriesContext(connection) as six:
            services.close_pool(big)

        assert steps == list(closing_progress.STEP_KEYS)
        assert len(six) == len(two)  # one INSERT … SELECT, whatever the batches
        assert PoolBatch.objects.filter(pool=big).count() == 6
        assert PoolHistory.objects.get(pool=big, event="closed").payload["batches"] == 6


def test_the_page_queues_the_close_shows_its_progress_and_reloads_when_done(acme):
    deliver(acme, 3)
    with acme:
        pool = make_pool(variety="Gala")
    client = acme.client("Finance")

    page = client.post(f"/pools/{pool.pk}/close/", follow=True).content.decode()
    with acme:
        closing = PoolClosing.objects.get(pool=pool)
        assert (closing.status, pool.status) == ("queued", "open")
    assert "Waiting for the job worker" in page and 'hx-get="/pools/' in page and "Close pool</button>" not in page

    # The worker has started and is writing: the box names the step, and keeps polling.
    with acme:
        PoolClosing.objects.filter(pk=closing.pk).update(status="running")
        closing.refresh_from_db()
        closing_progress.StepReporter(closing)("writing")
    running = client.get(f"/pools/{pool.pk}/closing/")
    assert "Writing the pool&#x27;s batches" in running.content.decode() and "HX-Refresh" not in running
    assert f'max="{len(closing_progress.STEPS) + 1}" value="0"' in running.content.decode()

    with acme:
        [closing] = run_queued_closes()
    done = client.get(f"/pools/{pool.pk}/closing/")
    assert done["HX-Refresh"] == "true"
    assert (closing.status, closing.batches) == ("done", 3)
    with acme:
        pool.refresh_from_db()
        assert pool.status == "closed"
        assert closing_progress.progress(closing).label == "Closed with 3 batches."


def test_a_second_close_while_one_waits_or_runs_is_refused(acme):
    with acme:
        pool = make_pool()
        first = services.queue_close(pool)
        with pytest.raises(Conflict, match="already being closed") as queued:
            services.queue_close(pool)
        PoolClosing.objects.filter(pk=first.pk).update(status="running")
        with pytest.raises(Conflict, match="already being closed"):
            services.queue_close(pool)
        # The database refuses a second active close too, whoever writes it.
        with pytest.raises(IntegrityError), transaction.atomic():
            PoolClosing.objects.create(pool=pool)
        assert PoolClosing.objects.filter(pool=pool).count() == 1
    assert queued.value.code == "already_closing"


def test_a_job_run_twice_closes_once(acme):
    deliver(acme, 1)
    with acme:
        pool = make_pool()
        closing = services.queue_close(pool)
        services.run_closing(closing.pk)
        again = services.run_closing(closing.pk)

        assert again.status == "done"
        assert PoolHistory.objects.filter(pool=pool, event="closed").count() == 1


def test_a_refused_close_says_why_and_leaves_the_pool_open_to_close_again(acme):
    [batch] = deliver(acme, 1)
    with acme:
        blank = make_pool("P-BLANK")
        services.close_pool(blank)  # takes the Gala batch
        gala = make_pool("P-GALA", variety="Gala")
        services.queue_close(gala)
        [closing] = run_queued_closes()
        gala.refresh_from_db()

    assert closing.status == "failed" and batch.batch_code in closing.error
    assert gala.status == "open" and closing.finished_at is not None
    page = acme.client("Manager").get(f"/pools/{gala.pk}/").content.decode()
    assert "The pool was not closed" in page and "Close pool</button>" in page
    api = acme.api_client("Manager").get(f"/api/pools/{gala.pk}/closing/").json()
    assert api["status"] == "failed" and "already belong to a closed pool" in api["message"]


def test_a_clerk_may_not_close_nor_follow_a_close(acme):
    with acme:
        pool = make_pool()

    assert acme.client("Clerk").post(f"/pools/{pool.pk}/close/").status_code == 403
    assert acme.api_client("Clerk").post(f"/api/pools/{pool.pk}/close/").status_code == 403
    assert acme.client("Clerk").get(f"/pools/{pool.pk}/closing/").status_code == 403
    with acme:
        assert not PoolClosing.objects.exists()


# --- Through the real queue -------------------------------------------------------------------------------


@pytest.fixture
def queue(acme, monkeypatch):
    monkeypatch.setattr(procrastinate_app.current_app, "periodic_registry", PeriodicRegistry())

    def clean_up():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs WHERE args->>'schema' = 'acme'")
        with tenant_context(acme.company), connection.cursor() as cursor:
            # pool_batches and pool_history refuse DELETE (append-only); TRUNCATE is what restores use.
            cursor.execute("TRUNCATE pool_closings, pool_batches, pool_history, pool_income, charge_rules, pools, "
                           "batch_history, batch_bins, qc_inspections, pallet_lines, batches, blocks, farms, "
                           "growers, packhouses RESTART IDENTITY CASCADE")

    on_own_connection(clean_up)
    yield acme
    on_own_connection(clean_up)


def in_acme(acme, work):
    def run():
        with tenant_context(acme.company):
            return work()

    return on_own_connection(run)


def test_the_worker_closes_the_pool_the_api_queued(queue):
    acme = queue

    def deliver_and_pool():
        packhouse = PackhouseFactory()
        for _ in range(4):
            packed(GrowerFactory(), packhouse, net=1000, class1=800, class2=100)
        return make_pool()

    pool = in_acme(acme, deliver_and_pool)
    # Queued on a connection of its own: the worker reads only committed rows (an API request here would run
    # in the test's transaction).
    in_acme(acme, lambda: services.queue_close(pool, by=acme.user("Finance")))
    queued = acme.api_client("Finance").get(f"/api/pools/{pool.pk}/closing/")
    assert queued.json()["status"] == "queued" and queued.json()["message"] == "Waiting for the job worker."
    assert on_own_connection(_job_statuses) == ["todo"]

    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, delete_jobs="never")

    followed = acme.api_client("Finance").get(queued.json()["progress_url"]).json()
    assert (followed["status"], followed["batches"], followed["steps_done"]) == ("done", 4, followed["steps_total"])
    assert in_acme(acme, lambda: PoolBatch.objects.filter(pool_id=pool.pk).count()) == 4
    assert in_acme(acme, lambda: PoolHistory.objects.filter(pool_id=pool.pk, event="closed").count()) == 1
    assert on_own_connection(_job_statuses) == ["succeeded"]


def _job_statuses():
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE args->>'schema' = 'acme' "
                       "AND task_name = 'pools.tasks.close_pool'")
        return [row[0] for row in cursor.fetchall()]


def test_a_rolled_back_request_leaves_no_job(queue):
    acme = queue
    pool = in_acme(acme, make_pool)

    def queue_then_fail():
        with transaction.atomic():
            services.queue_close(pool)
            raise RuntimeError("the request failed after queueing")

    with pytest.raises(RuntimeError):
        in_acme(acme, queue_then_fail)
    assert on_own_connection(_job_statuses) == []
    assert in_acme(acme, PoolClosing.objects.count) == 0
