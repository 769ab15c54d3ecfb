"""Figures read at scrape time, not counted as they happen: readiness, and the job queue.

They are asked once per scrape (every 15 s, deploy/prometheus/prometheus.yml), by whichever gunicorn
worker answers it, so they never add work to a request. Readiness runs core.health's checks; the job
figures are two small queries on procrastinate's tables in the public schema, skipped when the database
is down (readiness says so).
"""

import logging

from django.db import connections
from prometheus_client.core import GaugeMetricFamily

from core import health

log = logging.getLogger(__name__)

JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")

_JOBS_BY_STATUS = """
    SELECT task_name, status::text, count(*) FROM procrastinate_jobs GROUP BY task_name, status
"""
# A job is waiting from the later of when it was deferred and when it was scheduled to run.
_OLDEST_WAITING = """
    SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(GREATEST(deferred.at, COALESCE(job.scheduled_at, deferred.at)))), 0)
      FROM procrastinate_jobs job
      JOIN procrastinate_events deferred ON deferred.job_id = job.id AND deferred.type = 'deferred'
     WHERE job.status = 'todo' AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
"""


def readiness():
    """{part: True when it answers}, by core.health's checks."""
    parts = {}
    for name, check in health.CHECKS.items():
        try:
            result = check()
        except Exception as exc:  # a part that is down is a 0, never a failed scrape
            log.warning("metrics: %s is down: %s", name, exc)
            result = "down"
        parts[name] = result == "ok"
    return parts


class ScrapeCollector:
    """fruitpak_ready{part} and the job queue's figures, computed when /metrics is asked for."""

    def collect(self):
        parts = readiness()
        ready = GaugeMetricFamily("fruitpak_ready", "1 when the part (database, redis) answers, else 0.",
                                  labels=["part"])
        for name, up in parts.items():
            ready.add_metric([name], 1 if up else 0)
        yield ready
        if parts.get("database"):
            try:
                yield from jobs()
            except Exception as exc:
                log.warning("metrics: the job queue could not be read: %s", exc)


def jobs():
    connection = connections["default"]
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(_JOBS_BY_STATUS)
        rows = cursor.fetchall()
        cursor.execute(_OLDEST_WAITING)
        (oldest,) = cursor.fetchone()
    by_status = GaugeMetricFamily(
        "fruitpak_jobs", "Jobs in procrastinate's table, by task and status (succeeded jobs are deleted).",
        labels=["task", "status"],
    )
    totals = dict.fromkeys(("todo", "doing", "failed"), 0)
    for task, status, count in rows:
        by_status.add_metric([task, status], count)
        if status in totals:
            totals[status] += count
    yield by_status
    for status, count in totals.items():
        name = {"todo": "queued", "doing": "running", "failed": "failed"}[status]
        yield GaugeMetricFamily(f"fruitpak_jobs_{name}", f"Jobs {name}, all tasks together.", value=count)
    yield GaugeMetricFamily(
        "fruitpak_jobs_oldest_queued_age_seconds",
        "Seconds the oldest job that is due has waited for a worker (0 when none waits).", value=float(oldest),
    )
