"""Jobs of a company: queued in the writer's transaction, run in the company's schema.

procrastinate keeps one set of tables, in the public schema (a shared app). A
job is a row there, inserted on this thread's Django connection: inside the
caller's transaction when there is one, so a rolled-back write leaves no job,
and nothing on the way depends on Redis. The row names the company's schema in
the job's arguments, and the worker runs the task inside that schema:

    @company_task()
    def refresh_intake_view(): ...          # runs in the schema its job names

    defer_for_company(refresh_intake_view, once=True, delay=30)

`manage.py procrastinate worker` runs the jobs, each sync task on a thread of
its own; the contrib app gives that thread's Django connection back to the
pool after every task.
"""

import functools
import logging

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context, tenant_context
from procrastinate import exceptions, manager
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector

log = logging.getLogger(__name__)

# In the worker the procrastinate app talks to PostgreSQL through a pool of its own; a job that writes
# must still queue its follow-ups in its own transaction, so every defer goes through Django's connection.
_on_django_connection = manager.JobManager(DjangoConnector())

# A waiting job that a transaction joins is row-locked until that transaction ends: the worker takes jobs
# FOR UPDATE SKIP LOCKED, so it cannot start the job before the joining write is committed and visible.
_JOIN_WAITING_JOB = "SELECT id FROM procrastinate_jobs WHERE queueing_lock = %s AND status = 'todo' FOR KEY SHARE"


def defer_for_company(task, *, once=False, delay=None, **task_kwargs):
    """Queue `task` (a company_task) for the current company; returns the job's id.

    once: at most one job of this task per company waits in the queue. While
    one waits, this joins it instead of queueing another, and two never run at
    the same time. delay: seconds before the job may start.
    """
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError(f"{task.name} runs in a company's schema; defer it from inside one.")
    key = f"{task.name}:{schema}" if once else None
    job = task.configure(
        lock=key, queueing_lock=key, schedule_in=None if delay is None else {"seconds": delay},
        task_kwargs={**task_kwargs, "schema": schema},
    ).job
    if key is None:
        return _on_django_connection.defer_job(job).id
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_JOIN_WAITING_JOB, [key])
            waiting = cursor.fetchone()
        if waiting is not None:
            return waiting[0]
        try:
            # A savepoint: losing the race below must not abort the caller's transaction.
            with transaction.atomic():
                return _on_django_connection.defer_job(job).id
        except exceptions.AlreadyEnqueued:
            # Another transaction queued one and committed meanwhile: join it. Each round means a job
            # was committed, and the next finds it unless the worker started it in between.
            continue


def company_task(**options):
    """Register a procrastinate task (options as app.task's) that runs in the schema its job names."""

    def register(func):
        @functools.wraps(func)
        def in_company(*, schema, **kwargs):
            with schema_context(get_public_schema_name()):
                company = get_tenant_model().objects.get(schema_name=schema)
            with tenant_context(company):
                return func(**kwargs)

        return app.task(**options)(in_company)

    return register


def platform_task(**options):
    """Register a procrastinate task that runs in the public schema, e.g. one that queues a job per company."""

    def register(func):
        @functools.wraps(func)
        def in_public(**kwargs):
            with schema_context(get_public_schema_name()):
                return func(**kwargs)

        return app.task(**options)(in_public)

    return register


# A worker killed mid-job (kill -9, an OOM kill, a lost container) never finishes its job: the row stays
# "doing", and a job with the same lock could never start again. Live workers update their heartbeat
# every JOB_HEARTBEAT_SECONDS; a job whose worker has been silent for JOB_STALLED_SECONDS goes back to the
# queue, its attempt counted. The job's own transaction died with the worker's connection, so the retry
# starts from nothing done (make chaos kills a worker mid-job and checks the job's effect is there once).
@app.periodic(cron=settings.JOB_RETRY_STALLED_CRON)
@app.task(queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp):
    manager_ = context.app.job_manager
    stalled = await manager_.get_stalled_jobs(seconds_since_heartbeat=settings.JOB_STALLED_SECONDS)
    for job in stalled:
        log.warning("job %s (%s) was left running by a dead worker; queued again", job.id, job.task_name)
        await manager_.retry_job(job)
    return len(stalled)
