"""Closing a pool as a job: at a hundred thousand batches it takes seconds, longer than a page should wait.

services.queue_close defers it in the request's transaction; the pool's page and the API poll the
PoolClosing row and the step in pools.closing.
"""

from core.jobs import company_task

from . import services


@company_task()
def close_pool(closing_id):
    services.run_closing(closing_id)
