"""daily_grower_intake: made in every company's schema, refreshed by the command and, debounced, after intake."""

import datetime as dt
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context, tenant_context

from core.tests.helpers import redis_down_caches
from reconciliation.management.commands.refresh_intake_view import Command
from reconciliation.models import DailyGrowerIntake
from reconciliation.services import PENDING_KEY, IntakeRefreshScheduler, refresh_intake_view

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
    from .helpers import intake, local

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


# --- the debounce --------------------------------------------------------------------------



def test_debounce_with_redis_unreachable_neither_fails_nor_floods(acme):
    scheduler = IntakeRefreshScheduler(delay=0.05)
    with override_settings(CACHES=redis_down_caches()), acme:
        assert cache.add("probe", 1) is None  # Redis really is unreachable
        first = scheduler.schedule()
        second = scheduler.schedule()  # within the window: debounced in this process
        first.join(timeout=30)
        third = scheduler.schedule()  # the refresh has started: a new intake schedules the next one
        third.join(timeout=30)

    assert second is None
    assert first.error is None and isinstance(first.rows, int)  # the refresh ran, on its own connection
    assert third is not None and third.error is None


def test_debounce_across_processes_uses_one_redis_key_per_company(acme, globex):
    here, elsewhere = IntakeRefreshScheduler(delay=60), IntakeRefreshScheduler(delay=60)
    timers = []
    try:
        with acme:
            cache.delete(PENDING_KEY)
            timers.append(here.schedule())
            assert timers[0] is not None
            assert cache.get(PENDING_KEY) is not None
            assert elsewhere.schedule() is None  # another process: the key says a refresh is pending
            assert here.schedule() is None
        with globex:
            cache.delete(PENDING_KEY)
            timers.append(elsewhere.schedule())  # another company has its own key
            assert timers[1] is not None
    finally:
        for timer in timers:
            if timer is not None:
                timer.cancel()
        for tenant in (acme, globex):
            with tenant:
                cache.delete(PENDING_KEY)


def test_the_refresh_clears_the_key_when_it_starts(acme):
    scheduler = IntakeRefreshScheduler(delay=0.05)
    with acme:
        cache.delete(PENDING_KEY)
        timer = scheduler.schedule()
        timer.join(timeout=30)
        pending = cache.get(PENDING_KEY)

    assert timer.error is None and timer.rows is not None
    assert pending is None


def test_nothing_is_scheduled_outside_a_company(db):
    with schema_context("public"):
        assert IntakeRefreshScheduler(delay=0.05).schedule() is None
