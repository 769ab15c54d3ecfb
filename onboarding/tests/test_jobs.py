"""A big file through the real queue: the preview and the import run as jobs in a real worker, with progress.

The worker reads only committed rows, so, as in reconciliation's job tests,
each write runs on a connection of its own and everything is removed afterwards.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import tenant_context
from procrastinate.contrib.django import app, procrastinate_app
from procrastinate.periodic import PeriodicRegistry

from core.tests.helpers import on_own_connection
from growers.models import Grower
from onboarding import imports, services
from onboarding.models import ImportRun, Status

from .helpers import csv_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(300)]

ROWS = 600


@pytest.fixture
def queue(acme, monkeypatch):
    monkeypatch.setattr(procrastinate_app.current_app, "periodic_registry", PeriodicRegistry())

    def clean_up():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs WHERE args->>'schema' = 'acme'")
        with tenant_context(acme.company), connection.cursor() as cursor:
            cursor.execute("TRUNCATE import_runs, growers RESTART IDENTITY CASCADE")

    on_own_connection(clean_up)
    yield acme
    on_own_connection(clean_up)


def run_worker():
    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, delete_jobs="never")


def in_acme(acme, work):
    def run():
        with tenant_context(acme.company):
            return work()

    return on_own_connection(run)


def test_a_big_file_is_previewed_and_imported_by_the_worker(queue):
    acme = queue
    content = csv_bytes("code,name", *(f"G{n:04d},Grower {n}" for n in range(ROWS)))
    manager = acme.user("Manager")

    run = in_acme(acme, lambda: services.upload(kind="growers", filename="big.csv", content=content, by=manager))
    assert (run.status, run.total_rows) == (Status.PREVIEWING, ROWS)
    page = acme.client("Manager").get(f"/imports/{run.pk}/").content.decode()
    assert "Checking the rows: 0 of 600 rows" in page and 'hx-trigger="every 2s"' in page

    run_worker()

    run = in_acme(acme, lambda: ImportRun.objects.get(pk=run.pk))
    assert (run.status, run.new_count, run.processed_rows) == (Status.READY, ROWS, ROWS)
    assert in_acme(acme, Grower.objects.count) == 0

    run = in_acme(acme, lambda: services.confirm(ImportRun.objects.get(pk=run.pk), by=manager))
    assert run.status == Status.IMPORTING
    progress = acme.client("Manager").get(f"/imports/{run.pk}/progress/")
    assert "Importing: 0 of 600 rows" in progress.content.decode() and "HX-Refresh" not in progress

    run_worker()

    run = in_acme(acme, lambda: ImportRun.objects.get(pk=run.pk))
    assert (run.status, run.new_count) == (Status.DONE, ROWS)
    assert in_acme(acme, Grower.objects.count) == ROWS
    assert acme.client("Manager").get(f"/imports/{run.pk}/progress/")["HX-Refresh"] == "true"


def test_progress_is_counted_while_the_rows_are_still_uncommitted(queue, monkeypatch):
    acme = queue
    content = csv_bytes("code,name", *(f"G{n:04d},Grower {n}" for n in range(ROWS)))
    manager = acme.user("Manager")
    run = in_acme(acme, lambda: services.upload(kind="growers", filename="big.csv", content=content, by=manager))
    seen = []
    real = imports._Progress.__call__

    def watch(self, done):
        real(self, done)
        seen.append(cache.get(self.key))

    monkeypatch.setattr(imports._Progress, "__call__", watch)
    run_worker()

    counts = [count for count in seen if count]
    assert counts and counts == sorted(counts) and 0 < counts[0] < ROWS
    with acme:
        cache.set(imports.progress_key(run.pk), 300)
        ImportRun.objects.filter(pk=run.pk).update(status=Status.IMPORTING, processed_rows=0)  # this test only
    page = acme.client("Manager").get(f"/imports/{run.pk}/progress/").content.decode()
    assert "Importing: 300 of 600 rows" in page
