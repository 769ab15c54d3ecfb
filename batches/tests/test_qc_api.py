"""QC in the API: the defect catalogue, a batch's inspections and the inspections list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches.models import DefectType, QCInspection

from .factories import BatchFactory
from .qc_helpers import inspect, qc_world

pytestmark = pytest.mark.django_db

CLERK, FINANCE, MANAGER = "Clerk", "Finance", "Manager"
EVERYONE = {CLERK: 200, FINANCE: 200, MANAGER: 200}


def inspection_body(w, **overrides):
    body = {"sample_size": 100, "result": "pass", "brix": "13.0",
            "defects": [{"defect_type": w.defects["A-BRUISE"].pk, "count": 4},
                        {"defect_type": w.defects["DECAY"].pk, "count": 1}]}
    body.update(overrides)
    return body


# name: (method, path, body, expected status per role)
ENDPOINTS = {
    "defect-types-list": ("get", "/api/defect-types/", None, EVERYONE),
    "defect-types-detail": ("get", "/api/defect-types/{defect}/", None, EVERYONE),
    "defect-types-create": ("post", "/api/defect-types/",
                            lambda w: {"code": "C-CREASE", "name": "Creasing", "fruit_type": "citrus",
                                       "severity": "minor"},
                            {CLERK: 403, FINANCE: 403, MANAGER: 201}),
    "defect-types-update": ("patch", "/api/defect-types/{defect}/", lambda w: {"severity": "minor"},
                            {CLERK: 403, FINANCE: 403, MANAGER: 200}),
    "batch-inspections-list": ("get", "/api/batches/{batch}/inspections/", None, EVERYONE),
    "batch-inspections-create": ("post", "/api/batches/{batch}/inspections/", inspection_body,
                                 {CLERK: 201, FINANCE: 403, MANAGER: 201}),
    "qc-inspections-list": ("get", "/api/qc-inspections/", None, EVERYONE),
    "qc-inspections-detail": ("get", "/api/qc-inspections/{inspection}/", None, EVERYONE),
    "qc-report": ("get", "/api/qc-report/", None, EVERYONE),
}
DETAIL = [name for name, (_, path, _, _) in ENDPOINTS.items() if "{" in path]


@pytest.fixture
def world(acme):
    with acme:
        w = qc_world()
        w.inspection = inspect(w.batch, {"A-BRUISE": 3}, sample_size=60, result="downgrade", by=acme.user(CLERK))
    return w


def call(client, name, w, host=None):
    method, path, body, _ = ENDPOINTS[name]
    url = path.format(batch=w.batch.pk, defect=w.defects["A-BRUISE"].pk, inspection=w.inspection.pk)
    extra = {"HTTP_HOST": host} if host else {}
    return getattr(client, method)(url, body(w) if body else None, format="json", **extra)


@pytest.mark.parametrize("role", [CLERK, FINANCE, MANAGER])
@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_role_gets_what_it_may(acme, world, name, role):
    response = call(acme.api_client(role), name, world)

    assert response.status_code == ENDPOINTS[name][3][role], response.content
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_gets_401(acme, world, name):
    assert call(acme.api_client(), name, world).status_code == 401


@pytest.mark.parametrize("name", ENDPOINTS)
def test_the_other_companys_token_is_refused_here(acme, globex, world, name):
    client = globex.api_client(MANAGER)

    assert call(client, name, world, host=acme.host).status_code == 401


@pytest.mark.parametrize("name", DETAIL)
def test_the_other_companys_ids_are_404_on_its_own_host(globex, world, name):
    assert call(globex.api_client(MANAGER), name, world).status_code == 404


@pytest.mark.parametrize("path", ["/api/defect-types/", "/api/qc-inspections/"])
def test_the_other_companys_lists_hold_nothing_of_this_one(globex, world, path):
    assert globex.api_client(MANAGER).get(path).json()["total"] == 0


def test_an_inspection_is_recorded_and_answered_with_its_defects(acme, world):
    response = call(acme.api_client(CLERK), "batch-inspections-create", world)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["batch"], body["batch_code"], body["inspector"]) == (world.batch.pk, world.batch.batch_code,
                                                                      "clerk@acme.test")
    assert (body["sample_size"], body["brix"], body["result"], body["defect_percent"]) == (100, "13.0", "pass", "5.0")
    assert [(d["code"], d["count"]) for d in body["defects"]] == [("A-BRUISE", 4), ("DECAY", 1)]


def test_a_repeated_idempotency_key_answers_the_first_inspection(acme, world):
    client = acme.api_client(CLERK)
    path = f"/api/batches/{world.batch.pk}/inspections/"
    with acme:
        before = QCInspection.objects.count()

    first = client.post(path, inspection_body(world), format="json", HTTP_IDEMPOTENCY_KEY="scale-7-0042")
    again = client.post(path, inspection_body(world), format="json", HTTP_IDEMPOTENCY_KEY="scale-7-0042")
    other = client.post(path, inspection_body(world, sample_size=90), format="json",
                        HTTP_IDEMPOTENCY_KEY="scale-7-0042")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json()["id"] == first.json()["id"]
    with acme:
        assert QCInspection.objects.count() == before + 1


BAD_BODIES = [
    ({"sample_size": 3}, "defects", "More fruit with a defect than the 3 sampled"),
    ({"defects": [{"defect_type": 1, "count": -1}]}, "defects", None),
    ({"sample_size": "lots"}, "sample_size", "A valid integer is required."),
    ({"brix": "41.0"}, "brix", "less than or equal to 40"),
    ({"brix": "twelve"}, "brix", "A valid number is required."),
    ({"firmness_kg": "30.5"}, "firmness_kg", "less than or equal to 30"),
    ({"sample_size": 0}, "sample_size", "greater than or equal to 1"),
    ({"result": "maybe"}, "result", "not a valid choice"),
    ({"defects": [{"defect_type": 999999, "count": 1}]}, "defects", None),
]


@pytest.mark.parametrize(("overrides", "name", "message"), BAD_BODIES)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(acme, world, overrides, name, message):
    body = inspection_body(world, **overrides)

    response = acme.api_client(CLERK).post(f"/api/batches/{world.batch.pk}/inspections/", body, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert name in errors
    if message:
        assert message in str(errors[name])
    with acme:
        assert QCInspection.objects.count() == 1


def test_a_repeated_or_foreign_defect_is_refused(acme, world):
    client = acme.api_client(CLERK)
    bruise, scab = world.defects["A-BRUISE"].pk, world.defects["P-SCAB"].pk

    twice = client.post(f"/api/batches/{world.batch.pk}/inspections/", inspection_body(
        world, defects=[{"defect_type": bruise, "count": 1}, {"defect_type": bruise, "count": 2}]), format="json")
    pear = client.post(f"/api/batches/{world.batch.pk}/inspections/", inspection_body(
        world, defects=[{"defect_type": scab, "count": 1}]), format="json")

    assert twice.status_code == 400 and "A-BRUISE is repeated" in str(twice.json()["errors"]["defects"])
    assert pear.status_code == 400 and "Not a defect of apple: Pear scab" in str(pear.json()["errors"]["defects"])


def test_a_reject_in_the_api_rejects_the_batch(acme, world):
    response = acme.api_client(MANAGER).post(f"/api/batches/{world.batch.pk}/inspections/",
                                             inspection_body(world, result="reject"), format="json")

    assert response.status_code == 201
    batch = acme.api_client(MANAGER).get(f"/api/batches/{world.batch.pk}/").json()
    assert batch["status"] == "rejected" and batch["rejection_reason"].startswith("QC reject: Bruising 4.0%")


def test_lists_have_the_envelope_and_filter(acme, world):
    with acme:
        other = BatchFactory()
        inspect(other, {}, sample_size=20, result="pass")
    client = acme.api_client(FINANCE)

    everything = client.get("/api/qc-inspections/").json()
    downgrades = client.get("/api/qc-inspections/?result=downgrade").json()
    of_batch = client.get(f"/api/batches/{other.pk}/inspections/").json()
    of_grower = client.get(f"/api/qc-inspections/?grower={world.batch.grower_id}").json()
    citrus = client.get("/api/defect-types/?fruit_type=citrus&severity=major").json()
    bad = client.get("/api/qc-inspections/?result=maybe")

    assert set(everything) == {"items", "total", "limit", "offset"} and everything["total"] == 2
    assert [i["id"] for i in downgrades["items"]] == [world.inspection.pk]
    assert [i["batch"] for i in of_batch["items"]] == [other.pk] and of_batch["total"] == 1
    assert [i["id"] for i in of_grower["items"]] == [world.inspection.pk]
    assert {d["fruit_type"] for d in citrus["items"]} <= {"citrus", ""}
    assert {d["severity"] for d in citrus["items"]} == {"major"} and citrus["total"] >= 5
    assert bad.status_code == 400 and "result" in bad.json()["errors"]


def test_the_list_queries_do_not_grow_with_the_page(acme, world):
    client = acme.api_client(MANAGER)
    with acme:
        for _ in range(3):
            inspect(BatchFactory(), {"A-SUNBURN": 1, "HAIL": 2}, sample_size=30)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/qc-inspections/?limit=2").status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/qc-inspections/?limit=50").status_code == 200

    assert len(many) == len(few)


def test_a_defect_code_cannot_change_through_the_api(acme, world):
    response = call(acme.api_client(MANAGER), "defect-types-update", world)
    renamed = acme.api_client(MANAGER).patch(f"/api/defect-types/{world.defects['A-BRUISE'].pk}/",
                                             {"code": "BRUISE"}, format="json")

    assert response.status_code == 200 and response.json()["severity"] == "minor"
    assert renamed.status_code == 400 and "code" in renamed.json()["errors"]
    with acme:
        assert DefectType.objects.filter(code="A-BRUISE").exists()
