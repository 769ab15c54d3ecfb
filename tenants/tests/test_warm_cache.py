"""manage.py warm_cache: after it, a client's first request for a list or the dashboard is a cache hit."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.tests.test_metrics import scrape, total
from tenants.management.commands.warm_cache import Command

pytestmark = pytest.mark.django_db


def hits_and_misses(before, after, namespace):
    def moved(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    hits = moved("fruitpak_cache_requests_total", namespace=namespace, result="hit")
    fast = moved("fruitpak_fastpath_answers_total", namespace=namespace)
    return hits + fast, moved("fruitpak_cache_requests_total", namespace=namespace, result="miss")


def test_after_warm_cache_the_first_requests_are_hits(acme, globex, capsys):
    call_command("warm_cache", schemas=["acme"], no_progress=True)
    assert "Warmed 1 companies" in capsys.readouterr().out
    before = scrape()
    clerk = acme.api_client("Clerk")
    finance = acme.api_client("Finance")
    assert clerk.get("/api/growers/").status_code == 200
    assert clerk.get("/api/packhouses/").status_code == 200
    assert finance.get("/api/prices/").status_code == 200
    assert acme.client("Manager").get("/").status_code == 200
    # globex was not named: its first request still builds the page.
    assert globex.api_client("Clerk").get("/api/growers/").status_code == 200
    after = scrape()
    for namespace in ("packhouses", "prices", "dashboard"):
        assert hits_and_misses(before, after, namespace) == (1, 0), namespace
    assert hits_and_misses(before, after, "growers") == (1, 1)


def test_a_warmed_page_is_the_page_the_full_stack_gives(acme):
    clerk = acme.api_client("Clerk")
    call_command("warm_cache", schemas=["acme"], no_progress=True)
    warmed = clerk.get("/api/growers/?limit=50&offset=0")
    assert warmed.status_code == 200
    assert warmed.json()["items"] == clerk.get("/api/growers/").json()["items"]
    assert warmed["Cache-Control"] == "no-store, private"
    assert warmed["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in warmed


def test_the_warming_tokens_are_revoked(acme):
    from accounts.models import ApiSession

    call_command("warm_cache", schemas=["acme"], no_progress=True)
    with acme:
        sessions = list(ApiSession.objects.filter(revoked_reason="warm_cache"))
    assert sessions, "warm_cache made no API session"
    assert all(session.revoked_at is not None for session in sessions)


def test_the_job_warms_too(acme):
    from tenants.tasks import warm_cache

    warm_cache(schemas=["acme"])
    before = scrape()
    assert acme.client("Manager").get("/").status_code == 200
    assert hits_and_misses(before, scrape(), "dashboard") == (1, 0)


def test_an_unknown_company_is_an_error():
    with pytest.raises(CommandError, match="No active company"):
        call_command("warm_cache", schemas=["nosuchco"], no_progress=True)


def test_help_names_its_options():
    text = Command().create_parser("manage.py", "warm_cache").format_help()
    for option in ("--schema", "--defer", "--no-progress"):
        assert option in text
