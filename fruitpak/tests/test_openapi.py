import pytest

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/auth/login", "post"), ("/api/auth/refresh", "post"), ("/api/auth/logout", "post"),
    ("/api/growers/", "get"), ("/api/growers/", "post"), ("/api/growers/{id}/", "get"),
    ("/api/growers/{id}/", "patch"), ("/api/growers/{id}/", "put"),
    ("/api/farms/", "get"), ("/api/farms/", "post"), ("/api/farms/{id}/", "get"), ("/api/farms/{id}/", "patch"),
    ("/api/blocks/", "get"), ("/api/blocks/", "post"), ("/api/blocks/{id}/", "get"), ("/api/blocks/{id}/", "patch"),
    ("/api/spray-clearances/", "get"), ("/api/spray-clearances/", "post"),
    ("/api/packhouses/", "get"), ("/api/packhouses/", "post"), ("/api/packhouses/{id}/", "get"),
    ("/api/packhouses/{id}/", "patch"), ("/api/packhouses/{id}/", "put"),
    ("/api/batches/", "get"), ("/api/batches/", "post"), ("/api/batches/{id}/", "get"),
    ("/api/batches/{id}/", "patch"), ("/api/batches/{id}/history/", "get"),
    ("/api/batches/{id}/transition/", "post"), ("/api/batches/{id}/packout/", "post"),
    ("/api/payments/", "get"), ("/api/payments/", "post"), ("/api/payments/{id}/", "get"),
    ("/api/payments/{id}/reverse/", "post"),
    ("/api/payment-runs/", "get"), ("/api/payment-runs/", "post"), ("/api/payment-runs/{id}/", "get"),
    ("/api/payment-runs/{id}/prepare/", "post"), ("/api/payment-runs/{id}/approve/", "post"),
    ("/api/payment-runs/{id}/post/", "post"), ("/api/payment-runs/{id}/cancel/", "post"),
    ("/api/payment-runs/{id}/decide/", "post"), ("/api/remittances/", "get"), ("/api/remittances/{id}/", "get"),
    ("/api/remittances/{id}/pdf/", "get"), ("/api/remittances/{id}/csv/", "get"),
    ("/api/pools/", "get"), ("/api/pools/", "post"), ("/api/pools/{id}/", "get"), ("/api/pools/{id}/close/", "post"),
    ("/api/pools/{id}/settlement/", "get"), ("/api/pools/{id}/closing/", "get"), ("/api/pool-income/", "get"),
    ("/api/pool-income/", "post"),
    ("/api/pool-income/{id}/", "get"), ("/api/charge-rules/", "get"), ("/api/charge-rules/", "post"),
    ("/api/charge-rules/{id}/", "get"), ("/api/charge-rules/{id}/", "delete"),
    ("/api/prices/", "get"), ("/api/prices/", "post"), ("/api/prices/{id}/", "get"), ("/api/prices/{id}/", "patch"),
    ("/api/reconciliation/", "get"), ("/api/intake/daily/", "get"),
    ("/api/defect-types/", "get"), ("/api/defect-types/", "post"), ("/api/defect-types/{id}/", "get"),
    ("/api/defect-types/{id}/", "patch"), ("/api/defect-types/{id}/", "put"),
    ("/api/batches/{id}/inspections/", "get"), ("/api/batches/{id}/inspections/", "post"),
    ("/api/qc-inspections/", "get"), ("/api/qc-inspections/{id}/", "get"), ("/api/qc-report/", "get"),
    ("/api/seasons/", "get"), ("/api/seasons/", "post"), ("/api/seasons/{id}/", "get"), ("/api/seasons/{id}/", "patch"),
    ("/api/pallets/", "get"), ("/api/pallets/", "post"), ("/api/pallets/{id}/", "get"),
    ("/api/pallets/{id}/lines/", "post"), ("/api/pallets/{id}/lines/{line_pk}/", "delete"),
    ("/api/pallets/{id}/close/", "post"), ("/api/pallets/{id}/reopen/", "post"), ("/api/pallets/{id}/move/", "post"),
    ("/api/pallets/{id}/history/", "get"),
    ("/api/rooms/", "get"), ("/api/rooms/", "post"), ("/api/rooms/{id}/", "get"), ("/api/rooms/{id}/", "patch"),
    ("/api/rooms/{id}/", "put"),
    ("/api/loads/", "get"), ("/api/loads/", "post"), ("/api/loads/{id}/", "get"), ("/api/loads/{id}/", "patch"),
    ("/api/loads/{id}/pallets/", "post"), ("/api/loads/{id}/pallets/{pallet_id}/", "delete"),
    ("/api/loads/{id}/dispatch/", "post"), ("/api/trace/", "get"), ("/api/trace/csv/", "get"),
}


@pytest.fixture
def schema(acme):
    response = acme.api_client("Clerk").get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_lists_every_operation_and_nothing_else(schema):
    found = {(path, method) for path, methods in schema["paths"].items() for method in methods}

    assert found == OPERATIONS


def test_lists_document_the_envelope_and_their_filters(schema):
    batches = schema["paths"]["/api/batches/"]["get"]
    params = {p["name"] for p in batches["parameters"]}
    ok = batches["responses"]["200"]["content"]["application/json"]["schema"]
    envelope = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]

    assert {"limit", "offset", "ordering", "q", "grower", "packhouse", "status", "fruit_type", "variety",
            "harvest_date_after", "harvest_date_before", "intake_date_after", "intake_date_before"} <= params
    assert set(envelope["required"]) == {"items", "total", "limit", "offset"}
    payments = {p["name"] for p in schema["paths"]["/api/payments/"]["get"]["parameters"]}
    assert {"grower", "payment_type", "paid_date_after", "paid_date_before"} <= payments
    growers = {p["name"] for p in schema["paths"]["/api/growers/"]["get"]["parameters"]}
    assert {"active", "region", "q"} <= growers
    blocks = {p["name"] for p in schema["paths"]["/api/blocks/"]["get"]["parameters"]}
    assert {"grower", "farm", "fruit_type", "variety", "active", "q"} <= blocks
    clearances = {p["name"] for p in schema["paths"]["/api/spray-clearances/"]["get"]["parameters"]}
    assert {"block", "season", "farm"} <= clearances


def test_errors_are_documented(schema):
    transition = schema["paths"]["/api/batches/{id}/transition/"]["post"]["responses"]

    assert {"200", "400", "401", "403", "404", "409"} <= set(transition)
    assert transition["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    login = schema["paths"]["/api/auth/login"]["post"]
    assert "401" in login["responses"] and "403" not in login["responses"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_idempotency_key_header_is_documented(schema):
    params = schema["paths"]["/api/payments/"]["post"]["parameters"]

    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params)


def test_docs_page_uses_no_cdn(acme):
    response = acme.client("Clerk").get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_schema_needs_a_login(acme):
    from rest_framework.test import APIClient

    assert APIClient(HTTP_HOST=acme.host).get("/api/schema/").status_code == 401
