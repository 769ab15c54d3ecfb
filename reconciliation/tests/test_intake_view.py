"""daily_grower_intake: made in every company's schema, refreshed by the command and by a job that intake queues."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from procrastinate.contrib.django.models import ProcrastinateJob

from core.jobs import defer_for_company
from reconciliation import tasks
from reconciliation.management.commands.refresh_intake_view import Command
from reconciliation.models import DailyGrowerIntake
from reconciliation.services import refresh_intake_view

from .helpers import intake, local

pytestmark = pytest.mark.django_db


def fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_the_view_its_unique_index_and_time_zone_exist_in_each_company(request, tenant):
    company = request.getfixturevalue(tenant)
    with company:
        views = fetch("SELECT matviewname FROM pg_matviews WHERE schemaname = current_schema()")
        unique = fetch(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'daily_grower_intake' AND indexdef LIKE 'CREATE UNIQUE INDEX%%'"
        )
        zone = fetch("SELECT time_zone FROM reconciliation_settings")

    assert views == [("daily_grower_intake",)]
    assert len(unique) == 1 and "(day, grower_id, packhouse_id, fruit_type)" in unique[0][0]
    assert zone == [("Africa/Johannesburg",)]


def test_the_public_schema_has_no_view():
    with schema_context("public"):
        assert fetch("SELECT count(*) FROM pg_matviews WHERE schemaname = 'public'") == [(0,)]


def test_a_company_created_later_gets_the_view_with_its_own_time_zone(db):
    from tenants.services import NewCompany, create_company

    company = create_company(NewCompany(
        schema="initech", name="Initech Produce", domain="initech.localhost",
        admin_email="boss@initech.test", admin_password="correct-horse-battery", time_zone="Pacific/Auckland",
    ))
    with tenant_context(company):
        assert fetch("SELECT time_zone FROM reconciliation_settings") == [("Pacific/Auckland",)]
        assert refresh_intake_view() == 0


def test_refresh_turns_batches_into_local_days(acme, march):
    with acme:
        assert DailyGrowerIntake.objects.count() == 0  # not refreshed yet
        rows = refresh_intake_view()
        f_days = sorted(DailyGrowerIntake.objects.filter(grower=march.f).values_list("day", flat=True))
        b_rows = DailyGrowerIntake.objects.filter(grower=march.b).order_by("day")
        b = [(r.day, r.packhouse_id, r.batches, r.bins, r.net_kg) for r in b_rows]

    assert rows == 14  # 14 batches, no two on the same (day, grower, packhouse, fruit)
    # F1 28 Feb 23:30, F2 1 Mar 00:30, F3 31 Mar 23:30, F4 1 Apr 00:30, all local.
    assert f_days == [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2026, 4, 1)]
    # The rejected B2 arrived too, so it counts.
    assert b == [(dt.date(2026, 3, 3), march.ph2.pk, 1, 10, 3500), (dt.date(2026, 3, 4), march.ph1.pk, 1, 10, 3500)]


def test_one_row_per_day_grower_packhouse_and_fruit(acme, march):
    with acme:
        intake(march.a, march.ph1, local(2026, 3, 10, 15), gross="2000", tare="200", bins=4)
        refresh_intake_view()
        row = DailyGrowerIntake.objects.get(grower=march.a, day=dt.date(2026, 3, 10))

    assert (row.batches, row.bins, row.net_kg) == (2, 14, 5300)  # 10 + 4 bins; 3,500 + 1,800 kg


def test_refresh_follows_a_changed_time_zone(acme, march):
    with acme:
        acme.company.time_zone = "UTC"
        refresh_intake_view()
        f_days = sorted(DailyGrowerIntake.objects.filter(grower=march.f).values_list("day", flat=True))
        zone = fetch("SELECT time_zone FROM reconciliation_settings")

    assert zone == [("UTC",)]
    # In UTC, F1 and F2 were both weighed on 28 February, F3 and F4 both on 31 March.
    assert f_days == [dt.date(2026, 2, 28), dt.date(2026, 3, 31)]


# --- the command -------------------------------------------------------------------------


def test_command_refreshes_every_company(acme, march):
    out = StringIO()
    call_command("refresh_intake_view", stdout=out)

    text = out.getvalue()
    assert "acme: 14 rows" in text and "globex: 0 rows" in text
    assert "Refreshed daily_grower_intake in 2 companies" in text
    with acme:
        assert DailyGrowerIntake.objects.count() == 14


def test_command_refreshes_one_company(acme, globex, march):
    out = StringIO()
    call_command("refresh_intake_view", "--schema", "globex", stdout=out)

    assert "[1/1] globex: 0 rows" in out.getvalue() and "acme" not in out.getvalue()
    with acme:
        assert DailyGrowerIntake.objects.count() == 0  # acme was left alone


@pytest.mark.parametrize(("schema", "message"), [("nosuch", "No company has the schema 'nosuch'"),
                                                 ("public", "platform's schema")])
def test_command_refuses_an_unknown_schema(db, schema, message):
    with pytest.raises(CommandError, match=message):
        call_command("refresh_intake_view", "--schema", schema, stdout=StringIO())


def test_command_help():
    text = Command().create_parser("manage.py", "refresh_intake_view").format_help()

    assert "--schema" in text and "CONCURRENTLY" in text


# --- the refresh after intake: a job, queued in the intake's transaction ---------------------------------
# The worker running these jobs is tested in test_refresh_jobs.py.


@pytest.fixture
def no_jobs(db):
    """No job in the queue, for this test's transaction only: tests that commit intakes leave theirs."""
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")


def refresh_jobs():
    return list(ProcrastinateJob.objects.filter(task_name=tasks.refresh_intake_view.name).order_by("id"))


def test_the_job_tables_are_in_public_only_and_a_company_queues_into_them(no_jobs, acme, march):
    with acme:
        intake(march.a, march.ph1, local(2026, 3, 10, 15))
        job_tables = fetch("SELECT DISTINCT schemaname FROM pg_tables WHERE tablename LIKE 'procrastinate%%'")
        queued = fetch("SELECT count(*) FROM public.procrastinate_jobs WHERE args->>'schema' = 'acme'")

    assert job_tables == [("public",)]
    assert queued == [(1,)]


def test_intakes_in_a_burst_queue_one_delayed_refresh_for_their_company(no_jobs, acme, settings):
    from growers.tests.factories import GrowerFactory
    from packhouses.tests.factories import PackhouseFactory

    settings.INTAKE_VIEW_REFRESH_SECONDS = 30
    with acme:
        grower, packhouse = GrowerFactory(), PackhouseFactory()
        before = timezone.now()
        for day in (10, 11, 12):
            intake(grower, packhouse, local(2026, 3, day, 15))
        jobs = refresh_jobs()

    assert len(jobs) == 1
    job = jobs[0]
    assert (job.status, job.args) == ("todo", {"schema": "acme"})
    assert job.queueing_lock == job.lock == f"{tasks.refresh_intake_view.name}:acme"
    assert before + dt.timedelta(seconds=29) < job.scheduled_at < timezone.now() + dt.timedelta(seconds=31)


def test_each_company_has_its_own_waiting_refresh(no_jobs, acme, globex):
    from growers.tests.factories import GrowerFactory
    from packhouses.tests.factories import PackhouseFactory

    for tenant in (acme, globex):
        with tenant:
            intake(GrowerFactory(), PackhouseFactory(), timezone.now())

    assert sorted(job.args["schema"] for job in refresh_jobs()) == ["acme", "globex"]


@pytest.mark.parametrize(("changes", "queued"), [({"bin_count": 12}, 1), ({"notes": "Bins were wet"}, 0)])
def test_an_edit_queues_a_refresh_only_when_the_view_sums_what_changed(no_jobs, acme, march, changes, queued):
    from batches import services as batch_services

    with acme:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")  # the one march's intakes queued
        batch_services.edit(march.a1, changes, reason="recount" if "bin_count" in changes else "", confirm_unusual=True)
        assert len(refresh_jobs()) == queued


def test_a_refresh_is_queued_only_from_inside_a_company(db):
    with schema_context("public"), pytest.raises(RuntimeError, match="company's schema"):
        defer_for_company(tasks.refresh_intake_view)
