"""Keeping reconciliation's derived data right: daily_grower_intake and batch_day_totals.

batch_day_totals is kept by triggers (migration 0002); here are the two
moments it needs help: `sync_time_zone()` rebuilds it when the company's
time zone changed, and `bulk_batch_load()` lets a bulk load skip the
triggers and rebuild once.

`refresh_intake_view()` refreshes the current company's materialized view
CONCURRENTLY (readers are never blocked). Who calls it: the job that intake
queues, debounced, and the periodic safety net (reconciliation/tasks.py), and
`manage.py refresh_intake_view` for every company or one.
"""

import logging
from contextlib import contextmanager

from django.db import connection, transaction

from core.cache import bump
from core.tenancy import company_timezone

log = logging.getLogger(__name__)


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
