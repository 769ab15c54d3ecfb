"""No statement of a web request runs for minutes (issue 14, item 8).

A statement for the year 9000 never returned: gunicorn gave up at 30 s, PostgreSQL did not. Now every
date a request gives is bounded and every period at most three years (a 400), and a web process's
statements have DB_STATEMENT_TIMEOUT; one cancelled by it is a 503 that says so.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import environ
import pytest

from fruitpak.settings.base import database_from_env
from growers.tests.factories import GrowerFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent
YEAR_9000 = "from=9000-01-01&to=9000-12-30"


@pytest.fixture
def grower(acme):
    with acme:
        return GrowerFactory()


def test_a_year_9000_statement_is_a_400_at_once(acme, grower):
    client = acme.client("Finance")
    started = time.monotonic()

    page = client.get(f"/reconciliation/growers/{grower.pk}/statement/?{YEAR_9000}")
    export = client.get(f"/reconciliation/growers/{grower.pk}/statement/?{YEAR_9000}&format=csv")

    assert time.monotonic() - started < 2
    assert page.status_code == 400 and "Give a date from 2000-01-01 to 2099-12-31." in page.text
    assert export.status_code == 400 and export["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("url", [f"/reconciliation/?{YEAR_9000}", f"/reconciliation/?{YEAR_9000}&format=csv",
                                 "/reconciliation/?from=1999-12-31&to=2000-01-01"])
def test_the_report_page_refuses_dates_out_of_bounds(acme, url):
    assert acme.client("Finance").get(url).status_code == 400


@pytest.mark.parametrize(("url", "field"), [
    (f"/api/reconciliation/?{YEAR_9000}", "from"),
    ("/api/batches/?harvest_date_after=9000-01-01", "harvest_date_after"),
    ("/api/batches/?harvest_date_after=2020-01-01&harvest_date_before=2024-01-01", "harvest_date_after"),
    ("/api/batches/?intake_date_after=2020-01-01&intake_date_before=2024-01-01", "intake_date"),
    ("/api/batches/?intake_date_before=9000-01-01", "intake_date"),
    ("/api/payments/?paid_date_before=9000-12-30", "paid_date_before"),
    ("/api/payments/?paid_date_after=2020-01-01&paid_date_before=2023-06-01", "paid_date_after"),
    ("/api/prices/?valid_on=1066-10-14", "valid_on"),
    ("/api/intake/daily/?day_after=2020-01-01&day_before=2023-06-01", "day_after"),
    ("/api/intake/daily/?day_before=9000-01-01", "day_before"),
])
def test_api_dates_and_periods_are_bounded(acme, url, field):
    response = acme.api_client("Manager").get(url)

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.parametrize("url", [
    "/api/batches/?harvest_date_after=2023-01-01&harvest_date_before=2025-12-31",
    "/api/batches/?intake_date_after=2023-01-01&intake_date_before=2025-12-31",
    "/api/payments/?paid_date_after=2023-01-01&paid_date_before=2025-12-31",
    "/api/intake/daily/?day_after=2023-01-01&day_before=2025-12-31",
    "/api/reconciliation/?from=2025-01-01&to=2025-12-31",
])
def test_three_years_within_bounds_are_fine(acme, url):
    assert acme.api_client("Manager").get(url).status_code == 200


@pytest.mark.urls("fruitpak.tests.slow_urls")
def test_a_statement_cancelled_by_the_timeout_is_a_503_page(acme):
    client = acme.client("Clerk")
    client.raise_request_exception = False

    response = client.get("/slow/")

    assert response.status_code == 503
    assert "That took too long" in response.text and "Traceback" not in response.text
    assert "Retry-After" not in response


@pytest.mark.urls("fruitpak.tests.slow_urls")
def test_a_statement_cancelled_by_the_timeout_is_a_json_503_in_the_api(acme):
    response = acme.api_client("Clerk").get("/api/slow/")

    assert response.status_code == 503
    assert response.json()["code"] == "statement_timeout"
    assert "took too long" in response.json()["detail"]


def settings_of(**variables):
    env = environ.Env()
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        return database_from_env(env)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


def test_web_processes_get_the_timeout_and_commands_do_not():
    web = settings_of(FRUITPAK_PROCESS="web", DB_STATEMENT_TIMEOUT="5")
    tight = settings_of(FRUITPAK_PROCESS="web", DB_STATEMENT_TIMEOUT="0.25")
    off = settings_of(FRUITPAK_PROCESS="web", DB_STATEMENT_TIMEOUT="0")
    command = settings_of(FRUITPAK_PROCESS="", DB_STATEMENT_TIMEOUT="5")
    raised = settings_of(FRUITPAK_PROCESS="", DB_COMMAND_STATEMENT_TIMEOUT="600")

    assert web["OPTIONS"]["options"] == "-c statement_timeout=5000"
    assert tight["OPTIONS"]["options"] == "-c statement_timeout=250"
    assert "options" not in off["OPTIONS"] and "options" not in command["OPTIONS"]
    assert raised["OPTIONS"]["options"] == "-c statement_timeout=600000"


def show_statement_timeout(code):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fruitpak.settings.test"}
    env.pop("FRUITPAK_PROCESS", None)
    env.pop("DB_STATEMENT_TIMEOUT", None)
    script = code + (
        "\nfrom django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SHOW statement_timeout')\n"
        "    print(cursor.fetchone()[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_wsgi_application_connects_with_the_timeout_and_manage_py_without():
    assert show_statement_timeout("import fruitpak.wsgi") == "5s"
    assert show_statement_timeout("import django; django.setup()") == "0"
