"""The job queue's admin pages: the table holds every company's jobs, so only the platform admin shows it."""

from procrastinate.contrib.django.models import ProcrastinateJob

from tenants.admin import platform_admin


def test_a_company_admin_does_not_offer_the_job_queue(acme):
    response = acme.client("Manager").get("/admin/procrastinate/procrastinatejob/")

    assert response.status_code == 404


def test_the_platform_admin_offers_the_job_queue():
    assert ProcrastinateJob in platform_admin._registry
