"""The API's contract where it goes wrong: JSON errors for anything under /api/, nulls for empty enums,
strict booleans, refused read-only fields, and every error status in the schema (issue 14, item 10)."""

import json
import re

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import RequestFactory

from batches.models import BatchHistory
from batches.tests.factories import BatchFactory
from core.views import bad_request, csrf_failure
from growers.tests.factories import GrowerFactory

pytestmark = pytest.mark.django_db


def assert_json_error(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) >= {"detail", "code"}
    if code:
        assert body["code"] == code


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/batches/0.5/", "/api/batches/0.5/history/", "/api/nothing/here", "/api/x/"])
def test_an_unmatched_api_path_is_a_json_404(acme, settings, debug, path):
    # With DEBUG on (make run), Django renders its HTML 404 page instead of calling handler404.
    settings.DEBUG = debug
    api = acme.api_client("Manager")

    assert_json_error(api.get(path), 404, "not_found")
    assert_json_error(api.post(path, {}, format="json"), 404, "not_found")


def test_a_known_api_path_without_its_slash_still_redirects(acme):
    response = acme.api_client("Manager").get("/api/batches?limit=1")

    assert response.status_code == 301
    assert response["Location"].endswith("/api/batches/?limit=1")


def test_an_unsupported_method_is_a_json_405(acme):
    assert_json_error(acme.api_client("Manager").delete("/api/growers/"), 405)


@pytest.mark.parametrize("debug", [False, True])
def test_a_body_over_the_upload_limit_is_a_json_413(acme, settings, debug):
    settings.DEBUG = debug
    api = acme.api_client("Manager")
    body = json.dumps({"code": "G9", "name": "x" * 3_000_000})

    response = api.generic("POST", "/api/growers/", body, content_type="application/json")

    assert_json_error(response, 413, "too_large")


@pytest.mark.parametrize(("path", "content_type"), [("/api/growers/", "application/json"), ("/growers/", "text/plain")])
def test_django_refusing_a_big_body_outside_drf_is_a_413(path, content_type):
    # Whoever reads request.body first (a middleware, a form) gets RequestDataTooBig, which Django hands
    # to handler400: its HTML 400 page was the answer.
    request = RequestFactory().post(path, data=b"x" * 10, content_type="application/json")

    response = bad_request(request, RequestDataTooBig("too big"))

    assert response.status_code == 413
    assert response["Content-Type"].startswith(content_type)


def test_a_malformed_body_is_a_json_400(acme):
    response = acme.api_client("Manager").generic("POST", "/api/growers/", "{not json", content_type="application/json")

    assert_json_error(response, 400)


def test_an_empty_status_in_batch_history_is_null(acme):
    with acme:
        batch = BatchFactory()
        BatchHistory.objects.create(batch=batch, event=BatchHistory.Event.NOTE, payload={"note": "checked"})
    rows = acme.api_client("Manager").get(f"/api/batches/{batch.pk}/history/").json()["items"]

    note = next(row for row in rows if row["event"] == "note")
    assert (note["from_status"], note["to_status"]) == (None, None)
    created = next(row for row in rows if row["event"] == "created")
    assert created["from_status"] is None and created["to_status"] == "received"


def test_the_schema_says_history_statuses_are_nullable(acme):
    schema = acme.api_client("Manager").get("/api/schema/?format=json").json()
    history = schema["components"]["schemas"]["BatchHistory"]["properties"]

    for name in ("from_status", "to_status"):
        assert history[name]["nullable"] is True
        assert {"$ref": "#/components/schemas/StatusEnum"} in history[name]["oneOf"]


@pytest.mark.parametrize("value", ["2", "3", "1", "0", "yes", "on"])
@pytest.mark.parametrize("path", ["/api/growers/", "/api/packhouses/"])
def test_a_boolean_filter_takes_only_true_or_false(acme, path, value):
    response = acme.api_client("Manager").get(f"{path}?active={value}")

    assert_json_error(response, 400, "invalid")
    assert list(response.json()["errors"]) == ["active"]


def test_a_boolean_filter_filters_on_true_and_false(acme):
    with acme:
        GrowerFactory(active=True)
        GrowerFactory(active=False)
    api = acme.api_client("Manager")

    for value, expected in (("true", True), ("false", False), ("TRUE", True)):
        items = api.get(f"/api/growers/?active={value}").json()["items"]
        assert items and {item["active"] for item in items} == {expected}
    assert api.get("/api/growers/?active=").status_code == 200


@pytest.mark.parametrize("method", ["put", "patch"])
def test_writing_a_growers_read_only_fields_is_a_400_naming_them(acme, method):
    api = acme.api_client("Manager")
    grower = api.post("/api/growers/", {"code": "G0200", "name": "Oak"}, format="json").json()

    response = getattr(api, method)(
        f"/api/growers/{grower['id']}/",
        {"code": "OTHER", "name": "Oak", "id": 999, "created_at": "2020-01-01T00:00:00Z"}, format="json",
    )

    assert_json_error(response, 400, "invalid")
    assert sorted(response.json()["errors"]) == ["code", "created_at", "id"]
    assert api.get(f"/api/growers/{grower['id']}/").json()["code"] == "G0200"


def test_writing_a_packhouses_code_is_a_400(acme):
    api = acme.api_client("Manager")
    packhouse = api.post("/api/packhouses/", {"code": "PH9", "name": "North"}, format="json").json()

    response = api.patch(f"/api/packhouses/{packhouse['id']}/", {"code": "PH8"}, format="json")

    assert_json_error(response, 400, "invalid")
    assert list(response.json()["errors"]) == ["code"]


def test_writing_a_batchs_read_only_fields_is_a_400_naming_them(acme):
    with acme:
        batch = BatchFactory()
    api = acme.api_client("Manager")

    response = api.patch(f"/api/batches/{batch.pk}/",
                         {"notes": "fine", "batch_code": "X-1", "status": "dispatched", "net_weight_kg": "1"},
                         format="json")

    assert_json_error(response, 400, "invalid")
    assert sorted(response.json()["errors"]) == ["batch_code", "net_weight_kg", "status"]
    assert api.patch(f"/api/batches/{batch.pk}/", {"notes": "fine"}, format="json").status_code == 200


def test_the_update_schemas_leave_out_the_read_only_fields(acme):
    schemas = acme.api_client("Manager").get("/api/schema/?format=json").json()["components"]["schemas"]

    assert "code" not in schemas["PatchedGrowerUpdateRequest"]["properties"]
    assert "code" not in schemas["GrowerUpdateRequest"]["properties"]
    assert "code" not in schemas["PatchedPackhouseUpdateRequest"]["properties"]
    assert not {"fruit_type", "grade", "variety", "valid_from"} & set(
        schemas["PatchedPriceAgreementUpdateRequest"]["properties"])
    assert "code" in schemas["GrowerRequest"]["properties"]


def test_the_schema_documents_every_error_status(acme):
    paths = acme.api_client("Manager").get("/api/schema/?format=json").json()["paths"]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

    batches_list, intake = paths["/api/batches/"]["get"]["responses"], paths["/api/batches/"]["post"]["responses"]
    detail = paths["/api/growers/{id}/"]["patch"]["responses"]
    for responses, codes in ((batches_list, {"400", "401", "403", "414", "429"}),
                             (intake, {"400", "401", "403", "409", "413", "414", "429"}),
                             (detail, {"400", "401", "403", "404", "409", "413", "414", "429"})):
        assert codes <= set(responses)
        for code in codes:
            assert responses[code]["content"] == error
    assert "Retry-After" in batches_list["429"]["headers"]
    # Logout has no throttle, so it never answers 429.
    assert "429" not in paths["/api/auth/logout"]["post"]["responses"]


def test_a_failed_csrf_check_under_api_is_json(acme):
    # A session cookie and no token: SessionAuthentication's CSRF check applies; its refusal was Django's page.
    client = acme.client("Manager")
    client.handler.enforce_csrf_checks = True

    response = client.post("/api/x/", data="{}", content_type="application/json")
    assert_json_error(response, 404, "not_found")
    response = client.post("/growers/new/", {})
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")
    request = RequestFactory().post("/api/growers/")
    assert_json_error(csrf_failure(request, reason="CSRF cookie not set."), 403, "csrf_failed")


def test_a_decimal_in_the_schema_needs_a_digit(acme):
    """Found by schemathesis: the pattern allowed "", which the server refuses."""
    schemas = acme.api_client("Manager").get("/api/schema/?format=json").json()["components"]["schemas"]
    pattern = schemas["BatchIntakeRequest"]["properties"]["gross_weight_kg"]["pattern"]

    assert re.fullmatch(pattern, "1250.50") and not re.fullmatch(pattern, "") and not re.fullmatch(pattern, "-")


# What the last schemathesis run still found (issue 14, item 10).

@pytest.mark.parametrize("value", [0, 1, "true", "false", "yes", None])
@pytest.mark.parametrize("path", ["/api/growers/", "/api/packhouses/"])
def test_a_boolean_in_a_body_takes_only_json_true_or_false(acme, path, value):
    body = {"code": "ZZ1", "name": "Strict", "active": value}

    response = acme.api_client("Manager").post(path, body, format="json")

    assert_json_error(response, 400, "invalid")
    assert "active" in response.json()["errors"]


def test_a_boolean_in_a_body_takes_false(acme):
    response = acme.api_client("Manager").post("/api/packhouses/", {"code": "ZZ1", "name": "x", "active": False},
                                                format="json")

    assert response.status_code == 201 and response.json()["active"] is False


@pytest.mark.parametrize("region", [0, 12.5, ["north"], " " * 5 + "r" * 100])
def test_a_string_in_a_body_is_a_json_string_within_its_length_as_sent(acme, region):
    response = acme.api_client("Manager").post("/api/packhouses/", {"code": "ZZ1", "name": "x", "region": region},
                                                format="json")

    assert_json_error(response, 400, "invalid")
    assert "region" in response.json()["errors"]


@pytest.mark.parametrize("path", ["/api/batches/?grower={}", "/api/batches/?packhouse={}", "/api/payments/?grower={}",
                                  "/api/intake/daily/?grower={}", "/api/reconciliation/?grower={}&packhouse={}"])
def test_an_id_filter_naming_nothing_finds_nothing(acme, path):
    with acme:
        BatchFactory()
    response = acme.api_client("Manager").get(path.format(2**62, 2**62))

    assert response.status_code == 200, response.content[:300]
    assert response.json()["items"] == [] and response.json()["total"] == 0


@pytest.mark.parametrize("value", ["0", "-1", str(2**63), "null", "1.5"])
def test_an_id_filter_outside_the_schemas_range_is_a_400(acme, value):
    api = acme.api_client("Manager")

    assert_json_error(api.get(f"/api/batches/?grower={value}"), 400, "invalid")
    assert_json_error(api.get(f"/api/reconciliation/?grower={value}"), 400, "invalid")


def schema(acme):
    return acme.api_client("Manager").get("/api/schema/?format=json").json()


def parameter(document, path, name):
    return next(p["schema"] for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_the_schema_states_the_servers_bounds_on_query_parameters(acme):
    document = schema(acme)

    for path in ("/api/batches/", "/api/payments/", "/api/intake/daily/", "/api/reconciliation/"):
        assert parameter(document, path, "grower") == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameter(document, "/api/reconciliation/", "limit")["minimum"] == 1
    assert parameter(document, "/api/reconciliation/", "offset")["minimum"] == 0
    for path, name in (("/api/batches/", "harvest_date_after"), ("/api/prices/", "valid_on"),
                       ("/api/reconciliation/", "from"), ("/api/intake/daily/", "day_before")):
        pattern = parameter(document, path, name)["pattern"]
        assert re.match(pattern, "2000-01-01") and re.match(pattern, "2099-12-31")
        assert not re.match(pattern, "1999-12-31") and not re.match(pattern, "2100-01-01")
    pattern = parameter(document, "/api/growers/", "q")["pattern"]
    assert re.match(pattern, "abc") and not re.match(pattern, "a\x00b")


def test_the_schema_states_a_price_is_above_zero_and_kg_unsigned(acme):
    components = schema(acme)["components"]["schemas"]
    price = components["PriceAgreementRequest"]["properties"]["price_per_kg"]["pattern"]
    kg = components["BatchIntakeRequest"]["properties"]["gross_weight_kg"]["pattern"]

    for accepted in ("0.0001", "1", "123456.7890", "0.5", "000.0100"):
        assert re.match(price, accepted), accepted
    for refused in ("0", "0.0000", "-1", "1234567", "0.00001", ""):
        assert not re.match(price, refused), refused
    assert re.match(kg, "0") and not re.match(kg, "-1")


def test_a_price_of_zero_is_refused_as_the_schema_says(acme):
    body = {"fruit_type": "apple", "grade": "class1", "valid_from": "2030-01-01", "price_per_kg": "0"}

    response = acme.api_client("Manager").post("/api/prices/", body, format="json")

    assert_json_error(response, 400, "invalid")
    assert response.json()["errors"] == {"price_per_kg": ["The price per kg must be more than zero."]}
