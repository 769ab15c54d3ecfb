"""Keeping reconciliation's derived data right: daily_grower_intake and batch_day_totals.

batch_day_totals is kept by triggers (migration 0002); here are the two
moments it needs help: `sync_time_zone()` rebuilds it when the company's
time zone changed, and `bulk_batch_load()` lets a bulk load skip the
triggers and rebuild once. The rest of this module is the materialized
view: the refresh, and the debounced refresh after intake.

`refresh_intake_view()` refreshes the current company's view CONCURRENTLY
(readers are never blocked). `manage.py refresh_intake_view` runs it for
every company or one; run it from cron too (say every 5 minutes), as the
safety net for a refresh lost when a process stops.

`schedule_intake_refresh()` is what record_intake calls after commit:

    transaction.on_commit(schedule_intake_refresh, robust=True)

It returns at once. A refresh reads every batch of the company (about a
second at a million batches), far too slow for the weighbridge's request,
so it runs on a daemon thread of this process, `delay` seconds later
(INTAKE_VIEW_REFRESH_SECONDS, default 30). Debounced twice:

1. in this process: while a refresh of the company is pending here, further
   calls do nothing (no Redis round trip either);
2. across processes: `cache.add` of a tenant-prefixed key with a TTL. Only
   the process that adds the key schedules a refresh; the others see the key
   and do nothing. So a burst of intakes on any number of app servers gives
   one refresh, and refreshes of a company start at least `delay` apart.

The pending mark and the key are cleared when the refresh STARTS, before
its snapshot is taken: an intake committed before that point is in the
refresh, and one committed after it schedules the next refresh. Nothing is
lost in between.

With Redis down, `cache.add` answers None after its short socket timeout
(django-redis ignores the error): the process debounces on its own (one
refresh per process per `delay`) and nothing fails. Any other error is
logged, never raised: the intake has committed by then. A refresh lost
because the process stopped before it ran is caught by the next intake or
the cron run of the command.
"""

import logging
import math
import threading
import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, tenant_context

from core.cache import bump
from core.tenancy import company_timezone

log = logging.getLogger(__name__)

DEFAULT_DELAY_SECONDS = 30
PENDING_KEY = "intake_view:refresh_pending"


def sync_time_zone():
    """Make this schema's local days follow the company's time zone; True when they had to change.

    reconciliation_settings holds the zone that batch_day_totals and
    daily_grower_intake were built with (a materialized view and a trigger
    cannot read the company's row). When the company's zone differs (a
    platform admin changed it), the zone is copied and batch_day_totals is
    rebuilt in one transaction; the view follows at its next refresh. The
    usual case costs one small SELECT.
    """
    zone = company_timezone().key
    with connection.cursor() as cursor:
        cursor.execute("SELECT time_zone FROM reconciliation_settings WHERE id = 1")
        row = cursor.fetchone()
        if row is not None and row[0] == zone:
            return False
        with transaction.atomic():
            cursor.execute(
                "INSERT INTO reconciliation_settings (id, time_zone) VALUES (1, %s) "
                "ON CONFLICT (id) DO UPDATE SET time_zone = EXCLUDED.time_zone",
                [zone],
            )
            cursor.execute("SELECT batch_day_totals_rebuild()")
    log.info("%s: local days now in %s; batch_day_totals rebuilt", connection.schema_name, zone)
    return True


def refresh_intake_view():
    """Refresh the current company's daily_grower_intake CONCURRENTLY; returns its number of rows.

    First makes the local days follow the company's time zone (sync_time_zone).
    """
    sync_time_zone()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY daily_grower_intake")
        cursor.execute("SELECT count(*) FROM daily_grower_intake")
        bump("intake_view")
        return cursor.fetchone()[0]


@contextmanager
def bulk_batch_load():
    """For bulk loads of batches (seed_demo's COPY): batch_day_totals is rebuilt once at the end, not per row.

    Inside the caller's transaction, the row triggers skip their work (SET
    LOCAL fruitpak.bulk_batch_load, seen only by this session) and the
    totals are recomputed from every batch on the way out, under a lock that
    holds off other writers of batches until commit. If the block raises, the
    transaction rolls back and nothing was skipped.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_batch_load() must run inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL fruitpak.bulk_batch_load = 'on'")
        yield
        cursor.execute("SET LOCAL fruitpak.bulk_batch_load = 'off'")
        cursor.execute("SELECT batch_day_totals_rebuild()")


class RefreshTimer(threading.Timer):
    """The pending refresh of one company. After it ran: `rows` (the view's size) or `error`."""

    def __init__(self, delay, scheduler, company):
        super().__init__(delay, scheduler._run, args=(self, company))
        self.daemon = True
        self.schema = company.schema_name
        self.rows = None
        self.error = None


class IntakeRefreshScheduler:
    """The debounce of one process (see the module docstring). `schedule_intake_refresh` is the process's own."""

    def __init__(self, delay=None):
        self.delay = delay
        self._pending = {}  # schema -> RefreshTimer, or None while being scheduled
        self._lock = threading.Lock()

    def _delay(self):
        if self.delay is not None:
            return self.delay
        return getattr(settings, "INTAKE_VIEW_REFRESH_SECONDS", DEFAULT_DELAY_SECONDS)

    def schedule(self):
        """Refresh the current company's view in a moment, unless one is pending. Never raises.

        Returns the RefreshTimer it started, or None when debounced (or
        outside a company).
        """
        try:
            company = connection.tenant
            schema = getattr(company, "schema_name", None)
            if not schema or schema == get_public_schema_name() or not getattr(company, "pk", None):
                return None
            with self._lock:
                if schema in self._pending:
                    return None
                self._pending[schema] = None
            try:
                delay = self._delay()
                # True: ours. False: another process has one pending. None: Redis is down, go it alone.
                claimed = cache.add(PENDING_KEY, time.time(), timeout=math.ceil(delay) * 2 + 10)
                if claimed is False:
                    with self._lock:
                        self._pending.pop(schema, None)
                    return None
                timer = RefreshTimer(delay, self, company)
                with self._lock:
                    self._pending[schema] = timer
                timer.start()
                return timer
            except BaseException:
                with self._lock:
                    self._pending.pop(schema, None)
                raise
        except Exception:
            log.exception("could not schedule the daily_grower_intake refresh")
            return None

    def _run(self, timer, company):
        started = time.monotonic()
        try:
            with tenant_context(company):
                # Cleared before the refresh's snapshot: an intake committed from now on schedules the next one.
                with self._lock:
                    self._pending.pop(timer.schema, None)
                cache.delete(PENDING_KEY)
                timer.rows = refresh_intake_view()
            log.info("refreshed daily_grower_intake of %s: %s rows in %.2f s",
                     timer.schema, timer.rows, time.monotonic() - started)
        except Exception as exc:
            timer.error = exc
            log.exception("refreshing daily_grower_intake of %s failed", timer.schema)
        finally:
            with self._lock:
                if self._pending.get(timer.schema) is timer:
                    self._pending.pop(timer.schema, None)
            connection.close()  # this thread's connection, back to the pool


scheduler = IntakeRefreshScheduler()


def schedule_intake_refresh():
    """After an intake commits: refresh the company's daily_grower_intake soon, debounced. Never raises."""
    return scheduler.schedule()
