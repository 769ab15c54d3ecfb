"""GET /api/reconciliation/ and GET /api/intake/daily/: access, envelope, parameters, errors, query budgets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from growers.tests.factories import GrowerFactory
from reconciliation.services import refresh_intake_view

pytestmark = pytest.mark.django_db

MARCH_QUERY = "from=2026-03-01&to=2026-03-31"
REPORT = f"/api/reconciliation/?{MARCH_QUERY}"
DAILY = "/api/intake/daily/"


# --- access ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (REPORT, {"Clerk": 403, "Finance": 200, "Manager": 200}),
        (DAILY, {"Clerk": 200, "Finance": 200, "Manager": 200}),
    ],
)
def test_each_role_gets_what_it_may(acme, path, expected):
    for role, status in expected.items():
        response = acme.api_client(role).get(path)

        assert response.status_code == status, (role, response.content)
        assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", [REPORT, DAILY])
def test_anonymous_gets_401(acme, path):
    response = APIClient(HTTP_HOST=acme.host).get(path)

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize("path", [REPORT, DAILY])
def test_the_other_companys_token_gets_401(acme, globex, path):
    response = globex.api_client("Manager").get(path, HTTP_HOST=acme.host)

    assert response.status_code == 401
    assert "another company" in response.json()["detail"]


def test_a_clerk_session_is_refused_too(acme):
    client = APIClient(HTTP_HOST=acme.host)
    client.force_authenticate(acme.user("Clerk"))

    assert client.get(REPORT).status_code == 403


# --- the report ------------------------------------------------------------------------


def test_report_envelope_rows_totals_and_parameters(acme, march):
    body = acme.api_client("Finance").get(REPORT).json()

    assert {"items", "total", "limit", "offset"} <= set(body)
    assert (body["total"], body["limit"], body["offset"]) == (5, 50, 0)
    first = body["items"][0]
    assert first == {
        "grower": {"id": march.a.pk, "code": "GA01", "name": "Farm GA01"},
        "batches": 3, "rejected_batches": 0, "unpriced_batches": 0,
        "net_kg": "10500.00", "packed_kg": "5900.00", "expected_value": "56800.00",
        "paid": {"advance": "30000.00", "final": "0.00", "deduction": "1500.00", "adjustment": "-2000.00",
                 "total": "29500.00"},
        "balance": "27300.00", "variance_percent": "48.06", "flagged": True,
    }
    assert [item["grower"]["code"] for item in body["items"]] == ["GA01", "GB01", "GC01", "GE01", "GF01"]
    assert body["items"][3]["variance_percent"] is None  # GE01: nothing expected
    assert body["totals"]["expected_value"] == "126800.00"
    assert (body["totals"]["growers"], body["totals"]["flagged_growers"]) == (5, 3)
    assert body["parameters"] == {
        "date_from": "2026-03-01", "date_to": "2026-03-31", "time_zone": "Africa/Johannesburg",
        "currency": "ZAR", "threshold_amount": "500.00", "threshold_percent": "5.00",
        "period_source": "given", "season": None,
    }


@pytest.mark.parametrize(
    ("query", "flagged", "thresholds"),
    [
        ("threshold=99.99", ["GA01", "GB01", "GC01", "GE01"], ("99.99", None)),
        ("threshold_percent=50", ["GC01", "GE01"], (None, "50.00")),
        ("threshold=20000&threshold_percent=50", ["GA01", "GC01", "GE01"], ("20000.00", "50.00")),
    ],
)
def test_report_thresholds(acme, march, query, flagged, thresholds):
    body = acme.api_client("Manager").get(f"{REPORT}&{query}").json()

    assert [item["grower"]["code"] for item in body["items"] if item["flagged"]] == flagged
    assert (body["parameters"]["threshold_amount"], body["parameters"]["threshold_percent"]) == thresholds


def test_report_filters_ordering_and_paging(acme, march):
    api = acme.api_client("Finance")

    codes = lambda query: [item["grower"]["code"] for item in api.get(f"{REPORT}&{query}").json()["items"]]  # noqa: E731
    assert codes(f"grower={march.c.pk}") == ["GC01"]
    assert codes(f"packhouse={march.ph2.pk}") == ["GB01"]
    assert codes("fruit_type=pear") == ["GC01"]
    assert codes("flagged=true") == ["GA01", "GC01", "GE01"]
    assert codes("flagged=false") == ["GB01", "GF01"]
    assert codes("ordering=-balance") == ["GA01", "GC01", "GB01", "GF01", "GE01"]
    page = api.get(f"{REPORT}&ordering=-balance&limit=2&offset=2").json()
    assert [item["grower"]["code"] for item in page["items"]] == ["GB01", "GF01"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    assert api.get(f"{REPORT}&limit=900").json()["limit"] == 500


def test_report_defaults_to_the_last_365_days(acme):
    body = acme.api_client("Finance").get("/api/reconciliation/").json()

    start, end = body["parameters"]["date_from"], body["parameters"]["date_to"]
    from datetime import date

    assert (date.fromisoformat(end) - date.fromisoformat(start)).days == 364


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-31&to=2026-03-01", "to"),
        ("from=2026-13-01&to=2026-03-01", "from"),
        ("from=yesterday", "from"),
        ("from=2024-01-01&to=2026-03-01", "to"),  # 791 days
        ("grower=abc", "grower"),
        ("grower=0", "grower"),
        ("packhouse=-1", "packhouse"),
        ("fruit_type=banana", "fruit_type"),
        ("threshold=-1", "threshold"),
        ("threshold=lots", "threshold"),
        ("threshold_percent=-5", "threshold_percent"),
        ("flagged=maybe", "flagged"),
        ("ordering=password", "ordering"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_bad_parameters_are_400_saying_which(acme, query, field):
    response = acme.api_client("Finance").get(f"/api/reconciliation/?{query}")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body


def test_the_other_companys_grower_is_found_nowhere(acme, globex):
    # An id that names no grower of this company filters to nothing (core.filters.IdChoiceField), as one
    # that names no grower at all does: the answer tells nothing about the other company.
    with globex:
        theirs = GrowerFactory(code="GLOBEX1")

    response = acme.api_client("Finance").get(f"{REPORT}&grower={theirs.pk + 100000}")
    assert response.status_code == 200
    assert response.json()["items"] == [] and "GLOBEX1" not in str(response.json())
    body = acme.api_client("Finance").get(REPORT).json()
    assert "GLOBEX1" not in str(body)


def test_report_query_count_does_not_grow_with_page_size(acme, march):
    api = acme.api_client("Finance")
    api.get(REPORT)  # warm up: content types, permissions

    counts = []
    for limit in (1, 5, 50):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"{REPORT}&limit={limit}&grower={march.a.pk}").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] == counts[2]
    # the search path, the user with their session and permissions (the host's company is cached), the grower
    # choice, the time-zone check, the report
    assert counts[0] == 5


# --- daily intake ----------------------------------------------------------------------


@pytest.fixture
def refreshed(acme, march):
    with acme:
        refresh_intake_view()
    return march


def test_daily_intake_rows_from_the_view(acme, refreshed):
    body = acme.api_client("Clerk").get(f"{DAILY}?day_after=2026-03-01&day_before=2026-03-01").json()

    # F2 was weighed at 00:30 on 1 March local time, 28 February in UTC.
    assert body["total"] == 1
    (row,) = body["items"]
    assert row == {
        "day": "2026-03-01",
        "grower": {"id": refreshed.f.pk, "code": "GF01", "name": "Farm GF01"},
        "packhouse": {"id": refreshed.ph1.pk, "code": "PH1", "name": refreshed.ph1.name},
        "fruit_type": "apple", "batches": 1, "bins": 10, "net_kg": "3500.00",
    }


def test_daily_intake_filters_and_order(acme, refreshed):
    api = acme.api_client("Manager")
    march = "day_after=2026-03-01&day_before=2026-03-31"

    days = [item["day"] for item in api.get(f"{DAILY}?{march}&limit=500").json()["items"]]
    assert days == sorted(days, reverse=True)
    # In March: A 3, B 2 (the rejected one too: it arrived), C 3, F 2 = 10 batches, each its own day.
    assert len(days) == 10
    assert api.get(f"{DAILY}?{march}&grower={refreshed.b.pk}").json()["total"] == 2
    assert api.get(f"{DAILY}?{march}&packhouse={refreshed.ph2.pk}").json()["total"] == 1
    assert api.get(f"{DAILY}?{march}&fruit_type=pear&fruit_type=citrus").json()["total"] == 2
    oldest = api.get(f"{DAILY}?ordering=day&limit=1").json()["items"][0]
    assert oldest["day"] == "2026-02-10"  # D's batch


@pytest.mark.parametrize(("query", "field"), [("day_after=soon", "day"), ("grower=abc", "grower"),
                                              ("fruit_type=banana", "fruit_type"), ("ordering=secret", "ordering")])
def test_daily_intake_bad_filters_are_400(acme, query, field):
    response = acme.api_client("Clerk").get(f"{DAILY}?{query}")

    assert response.status_code == 400
    assert field in str(response.json()["errors"])


def test_daily_intake_query_count_does_not_grow_with_page_size(acme, refreshed):
    api = acme.api_client("Clerk")
    api.get(DAILY)

    counts = []
    for limit in (1, 5, 50):
        with CaptureQueriesContext(connection) as queries:
            body = api.get(f"{DAILY}?limit={limit}").json()
        assert len(body["items"]) == min(limit, body["total"])
        counts.append(len(queries))

    assert counts[0] == counts[1] == counts[2]


# --- OpenAPI ---------------------------------------------------------------------------


def test_schema_documents_the_parameters_and_the_rows(acme):
    schema = acme.api_client("Clerk").get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    report = schema["paths"]["/api/reconciliation/"]["get"]
    params = {p["name"]: p for p in report["parameters"]}
    assert {"from", "to", "grower", "packhouse", "fruit_type", "threshold", "threshold_percent", "flagged",
            "ordering", "limit", "offset"} <= set(params)
    assert params["from"]["schema"] == {"type": "string", "format": "date", "pattern": r"^20\d\d-\d\d-\d\d$"}
    assert {"200", "400", "401", "403"} <= set(report["responses"])
    page = components[report["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert {"items", "total", "limit", "offset", "totals"} <= set(page["properties"])
    row = components["ReconciliationRow"]["properties"]
    assert {"grower", "batches", "unpriced_batches", "net_kg", "packed_kg", "expected_value", "paid", "balance",
            "variance_percent", "flagged"} <= set(row)
    assert set(components["Paid"]["properties"]) == {"advance", "final", "deduction", "adjustment", "total"}

    daily = {p["name"] for p in schema["paths"]["/api/intake/daily/"]["get"]["parameters"]}
    assert {"day_after", "day_before", "grower", "packhouse", "fruit_type", "ordering", "limit", "offset"} <= daily


# --- roles and the shared form -------------------------------------------------------


def test_the_roles_hold_the_reconciliation_permission(acme):
    from reconciliation.models import VIEW_PERMISSION

    with acme:
        held = {role: acme.user(role).has_perm(VIEW_PERMISSION) for role in ("Clerk", "Finance", "Manager")}

    assert held == {"Clerk": False, "Finance": True, "Manager": True}


def test_the_form_fills_in_the_default_period_for_the_page(acme):
    import datetime as dt
    from decimal import Decimal

    from reconciliation.filters import ReconciliationForm, StatementForm

    with acme:
        form = ReconciliationForm({"to": "2026-03-31", "threshold_percent": "7.5"})
        assert form.is_valid(), form.errors
        kwargs = form.report_kwargs()
        statement = StatementForm({"from": "2026-03-01", "to": "2026-03-31"})
        assert statement.is_valid()

    assert list(form.fields)[:2] == ["from", "to"]
    assert (kwargs["date_from"], kwargs["date_to"]) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    assert (kwargs["threshold_amount"], kwargs["threshold_percent"], kwargs["ordering"]) == (
        None, Decimal("7.5"), "grower_code")
    assert statement.period() == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
