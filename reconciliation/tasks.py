"""The refresh of daily_grower_intake as jobs: soon after intake, and every 5 minutes as the safety net.

A refresh reads every batch of the company (seconds at a million batches), far
too slow for the weighbridge's request, so intake only queues it, in its own
transaction (batches.signals.intake_changed -> `refresh_soon`). The job waits
INTAKE_VIEW_REFRESH_SECONDS; intakes in that window join the waiting job, so
a burst gives one refresh. A job that has started takes no more joiners: an
intake committed after its snapshot queues the next one.
"""

import logging
import time

from django.conf import settings
from django_tenants.utils import get_public_schema_name, tenant_context
from procrastinate.contrib.django import app

from core.jobs import company_task, defer_for_company, platform_task
from tenants.models import Company

from . import services

log = logging.getLogger(__name__)


@company_task()
def refresh_intake_view():
    started = time.monotonic()
    rows = services.refresh_intake_view()
    log.info("refreshed daily_grower_intake: %s rows in %.2f s", rows, time.monotonic() - started)


def refresh_soon(sender, **kwargs):
    """intake_changed's receiver: refresh this company's view in a moment, joining a refresh already waiting."""
    defer_for_company(refresh_intake_view, once=True, delay=settings.INTAKE_VIEW_REFRESH_SECONDS)


# The safety net for what intake does not announce: writes made outside the services (psql, a restore)
# and a company's changed time zone. It only queues; each company's refresh is its own job, skipped
# when one already waits, so this costs a small query per company.
@app.periodic(cron="*/5 * * * *")
@platform_task(queueing_lock="refresh_every_intake_view")
def refresh_every_intake_view(timestamp):
    for company in Company.objects.filter(is_active=True).exclude(schema_name=get_public_schema_name()):
        with tenant_context(company):
            defer_for_company(refresh_intake_view, once=True)
