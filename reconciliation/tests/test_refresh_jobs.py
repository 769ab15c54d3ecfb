"""The refresh of daily_grower_intake through the real queue: committed intakes, a real procrastinate worker.

A worker reads only committed rows, and transactional_db would flush the shared
companies, so each write here runs on a connection of its own (`committed`),
outside the test's rolled-back transaction; the worker has its own too. What
the tests make in acme and globex, and every job, is removed afterwards.
"""

import datetime as dt
import threading
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from procrastinate.contrib.django import app, procrastinate_app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.periodic import PeriodicRegistry

from core.tests.helpers import on_own_connection, redis_down_caches
from growers.tests.factories import GrowerFactory
from packhouses.tests.factories import PackhouseFactory
from reconciliation import services, tasks
from reconciliation.models import DailyGrowerIntake
from tenants.models import Company

from .helpers import intake

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]



@pytest.fixture
def live(acme, globex, monkeypatch, settings):
    """acme and globex, each with a grower and a packhouse, committed; refreshes queued ready to run."""
    settings.INTAKE_VIEW_REFRESH_SECONDS = 0
    # The cron job would refresh every company in the middle of a test; it has a test of its own.
    monkeypatch.setattr(procrastinate_app.current_app, "periodic_registry", PeriodicRegistry())
    companies = {tenant.schema: tenant.company for tenant in (acme, globex)}

    def make(company):
        with tenant_context(company):
            return SimpleNamespace(company=company, grower=GrowerFactory(), packhouse=PackhouseFactory())

    def clean_up():
        forget_jobs()
        for company in companies.values():
            with tenant_context(company), connection.cursor() as cursor:
                cursor.execute("TRUNCATE batch_history, batches, batch_code_counters, growers, packhouses "
                               "RESTART IDENTITY CASCADE")
                services.refresh_intake_view()

    on_own_connection(forget_jobs)  # one that another module's committed company left
    try:
        yield SimpleNamespace(**{schema: on_own_connection(lambda c=company: make(c))
                                 for schema, company in companies.items()})
    finally:
        on_own_connection(clean_up)


def deliver(tenant):
    def work():
        with tenant_context(tenant.company):
            return intake(tenant.grower, tenant.packhouse, timezone.now() - dt.timedelta(minutes=5))

    return on_own_connection(work)


def run_worker():
    """A real worker on its own connections, as `manage.py procrastinate worker` runs it, until no job is ready."""
    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, delete_jobs="never")


def forget_jobs(schema=None):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE %s IS NULL OR args->>'schema' = %s", [schema, schema])


def refresh_jobs():
    """(schema, status) of each refresh job. Reads, like writes, stay out of the test's transaction,
    whose locks would outlive them and hold up the clean-up."""
    jobs = ProcrastinateJob.objects.filter(task_name=tasks.refresh_intake_view.name).order_by("id")
    return on_own_connection(lambda: [(job.args["schema"], job.status) for job in jobs])


def view_of(tenant):
    def read():
        with tenant_context(tenant.company):
            return list(DailyGrowerIntake.objects.values_list("grower_id", "batches"))

    return on_own_connection(read)


def test_an_intake_queues_one_refresh_that_the_worker_runs(live):
    batch = deliver(live.acme)

    assert refresh_jobs() == [("acme", "todo")]
    assert view_of(live.acme) == []

    run_worker()

    assert refresh_jobs() == [("acme", "succeeded")]
    assert view_of(live.acme) == [(batch.grower_id, 1)]


def test_a_rolled_back_intake_leaves_no_job(live):
    def work():
        with tenant_context(live.acme.company), transaction.atomic():
            intake(live.acme.grower, live.acme.packhouse, timezone.now())
            assert ProcrastinateJob.objects.filter(task_name=tasks.refresh_intake_view.name).count() == 1
            raise RuntimeError("the weighbridge lost power")

    with pytest.raises(RuntimeError, match="weighbridge"):
        on_own_connection(work)

    assert refresh_jobs() == []


def test_a_refresh_queued_while_redis_is_down_still_runs(live):
    with override_settings(CACHES=redis_down_caches()):
        assert on_own_connection(lambda: cache.add("probe", 1)) is None  # Redis really is unreachable there
        batch = deliver(live.acme)

    run_worker()

    assert refresh_jobs() == [("acme", "succeeded")]
    assert view_of(live.acme) == [(batch.grower_id, 1)]


def test_intakes_that_arrive_while_a_refresh_waits_join_it(live, settings):
    settings.INTAKE_VIEW_REFRESH_SECONDS = 60
    for _ in range(3):
        deliver(live.acme)

    assert refresh_jobs() == [("acme", "todo")]
    run_worker()
    assert refresh_jobs() == [("acme", "todo")]  # not due yet: the worker left it waiting


def test_a_job_refreshes_its_own_company_only(live):
    batch = deliver(live.acme)
    deliver(live.globex)
    on_own_connection(lambda: forget_jobs("globex"))

    run_worker()

    assert view_of(live.acme) == [(batch.grower_id, 1)]
    assert view_of(live.globex) == []  # its batch is committed, but no job named globex


def test_a_waiting_refresh_holds_back_until_the_intake_that_joined_it_commits(live):
    first = deliver(live.acme)
    joined, release = threading.Event(), threading.Event()

    def late_intake():
        try:
            with tenant_context(live.acme.company), transaction.atomic():
                intake(live.acme.grower, live.acme.packhouse, timezone.now() - dt.timedelta(minutes=5))
                joined.set()  # it joined the waiting job, and has not committed yet
                release.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=late_intake)
    writer.start()
    try:
        assert joined.wait(30)
        run_worker()
        # Started now, the refresh would miss the batch being written: the worker skips the job.
        assert refresh_jobs() == [("acme", "todo")]
    finally:
        release.set()
        writer.join(30)

    run_worker()

    assert refresh_jobs() == [("acme", "succeeded")]
    assert view_of(live.acme) == [(first.grower_id, 2)]


def test_the_periodic_job_refreshes_every_active_company(live):
    batch = deliver(live.acme)
    deliver(live.globex)
    on_own_connection(forget_jobs)  # as if both had been written with psql
    suspend = Company.objects.filter(pk=live.globex.company.pk)
    on_own_connection(lambda: suspend.update(is_active=False))
    try:
        on_own_connection(lambda: tasks.refresh_every_intake_view.defer(timestamp=0))
        run_worker()
    finally:
        on_own_connection(lambda: suspend.update(is_active=True))

    assert refresh_jobs() == [("acme", "succeeded")]  # globex is suspended
    assert view_of(live.acme) == [(batch.grower_id, 1)]
    assert view_of(live.globex) == []
