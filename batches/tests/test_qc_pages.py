"""The QC pages: who may see and use them, the inspection form, the batch page and the catalogue pages."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches import services
from batches.models import DefectType, QCInspection

from .factories import BatchFactory
from .qc_helpers import inspect, qc_world

pytestmark = pytest.mark.django_db

CLERK, FINANCE, MANAGER = "Clerk", "Finance", "Manager"
EVERYONE = {CLERK: 200, FINANCE: 200, MANAGER: 200}
INSPECTORS = {CLERK: 200, FINANCE: 403, MANAGER: 200}
MANAGER_ONLY = {CLERK: 403, FINANCE: 403, MANAGER: 200}

PAGES = {
    "defect-types": ("/batches/qc/defect-types/", EVERYONE),
    "defect-type-new": ("/batches/qc/defect-types/new/", MANAGER_ONLY),
    "defect-type-edit": ("/batches/qc/defect-types/{defect}/edit/", MANAGER_ONLY),
    "inspect": ("/batches/{batch}/qc/", INSPECTORS),
    "inspections": ("/batches/qc/", EVERYONE),
    "report": ("/batches/qc/report/", EVERYONE),
}


@pytest.fixture
def world(acme):
    with acme:
        w = qc_world()
        inspect(w.batch, {"A-BRUISE": 3}, sample_size=60, result="downgrade", by=acme.user(CLERK))
    return w


def url(name, w):
    return PAGES[name][0].format(batch=w.batch.pk, defect=w.defects["A-BRUISE"].pk)


def form_data(w, **overrides):
    data = {"sample_size": "100", "result": "pass", "brix": "", "firmness_kg": "", "notes": "",
            "idempotency_key": uuid.uuid4().hex}
    data.update(overrides)
    return data


def field(w, code):
    return f"defect_{w.defects[code].pk}"


@pytest.mark.parametrize("role", [CLERK, FINANCE, MANAGER])
@pytest.mark.parametrize("name", PAGES)
def test_each_role_gets_what_it_may(acme, world, name, role):
    assert acme.client(role).get(url(name, world)).status_code == PAGES[name][1][role]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(acme, world, name):
    response = acme.client().get(url(name, world))

    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("name", ["inspect", "defect-type-edit"])
def test_the_other_companys_objects_are_404(globex, world, name):
    assert globex.client(MANAGER).get(url(name, world)).status_code == 404


def test_the_other_companys_lists_show_nothing_of_this_one(globex, world):
    for name in ("defect-types", "inspections"):
        html = globex.client(MANAGER).get(url(name, world)).content.decode()
        assert "A-BRUISE" not in html and world.batch.batch_code not in html


def test_posting_as_finance_or_anonymous_records_nothing(acme, world):
    finance = acme.client(FINANCE).post(url("inspect", world), form_data(world))
    anonymous = acme.client().post(url("inspect", world), form_data(world))

    assert finance.status_code == 403 and anonymous.status_code == 302
    with acme:
        assert QCInspection.objects.count() == 1


def test_the_form_offers_the_batchs_fruit_defects_and_the_script_for_live_percentages(acme, world):
    response = acme.client(CLERK).get(url("inspect", world))
    html = response.content.decode()

    assert 'name="' + field(world, "A-CODLING") + '"' in html and 'name="' + field(world, "DECAY") + '"' in html
    assert "C-FCM" not in html and "Pear scab" not in html
    assert re.search(r'<script src="/static/js/qc[.\w]*\.js"', html)
    assert "data-qc-sample" in html and "data-qc-count" in html and "data-qc-total" in html
    # CSP: no inline script anywhere on the page.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_a_clerk_records_an_inspection_and_the_batch_page_shows_it(acme, world):
    client = acme.client(CLERK)
    data = form_data(world, sample_size="80", brix="12,5", firmness_kg="7.2",
                     **{field(world, "A-CODLING"): "4", field(world, "DECAY"): "2"})

    response = client.post(url("inspect", world), data, follow=True)

    assert response.redirect_chain[-1][0] == f"/batches/{world.batch.pk}/"
    html = response.content.decode()
    assert "QC of " + world.batch.batch_code + " recorded: Pass." in html
    section = html[html.index('data-testid="inspections"'):]
    # en-ZA: a decimal comma
    assert "7,5%" in section and "5,0%" in section and "Codling moth 4" in section and "12,5 °Brix" in section
    assert "clerk@acme.test" in section
    with acme:
        latest = QCInspection.objects.first()
        assert (latest.sample_size, str(latest.brix), latest.inspector.email) == (80, "12.5", "clerk@acme.test")


def test_a_second_press_of_save_records_nothing_more(acme, world):
    client = acme.client(CLERK)
    page = client.get(url("inspect", world)).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)
    data = form_data(world, sample_size="80", result="reject", idempotency_key=key,
                     **{field(world, "A-CODLING"): "12"})
    with acme:
        before = QCInspection.objects.count()

    first = client.post(url("inspect", world), data)
    # The batch is rejected now: a new inspection would be refused, but the same press gets the first one back.
    second = client.post(url("inspect", world), data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/batches/{world.batch.pk}/"
    with acme:
        assert QCInspection.objects.count() == before + 1
        assert QCInspection.objects.filter(idempotency_key=key).count() == 1
        assert world.batch.history.filter(event="qc").count() == 2  # the world's own inspection and this one


BAD_FORMS = [
    ({"sample_size": "20", "A-BRUISE": "21"}, "A-BRUISE", "More than the 20 fruit sampled."),
    ({"A-BRUISE": "-3"}, "A-BRUISE", "greater than or equal to 0"),
    ({"A-BRUISE": "lots"}, "A-BRUISE", "Enter a whole number."),
    ({"sample_size": "0"}, "sample_size", "greater than or equal to 1"),
    ({"sample_size": ""}, "sample_size", "This field is required."),
    ({"brix": "45"}, "brix", "less than or equal to 40"),
    ({"brix": "1.234,5"}, "brix", "is ambiguous"),
    ({"firmness_kg": "-1"}, "firmness_kg", "greater than or equal to 0"),
    ({"result": "maybe"}, "result", "Select a valid choice"),
]


@pytest.mark.parametrize(("overrides", "name", "message"), BAD_FORMS)
def test_bad_input_shows_the_error_beside_the_field_and_saves_nothing(acme, world, overrides, name, message):
    data = form_data(world, **{(field(world, key) if key in world.defects else key): value
                               for key, value in overrides.items()})

    response = acme.client(CLERK).post(url("inspect", world), data)

    assert response.status_code == 400
    form_field = field(world, name) if name in world.defects else name
    assert any(message in error for error in response.context["form"].errors[form_field])
    with acme:
        assert QCInspection.objects.count() == 1


def test_a_reject_on_the_form_rejects_the_batch_with_its_top_defects(acme, world):
    data = form_data(world, sample_size="50", result="reject", **{field(world, "A-CODLING"): "10"})

    response = acme.client(CLERK).post(url("inspect", world), data, follow=True)

    html = response.content.decode()
    assert "the batch is rejected" in html and "QC reject: Codling moth 20.0%" in html
    assert "Record QC inspection" not in html
    assert acme.client(CLERK).get(url("inspect", world)).context["open"] is False


@pytest.fixture
def qc_required(acme):
    acme.company.qc_required = True
    acme.company.save(update_fields=["qc_required"])
    return acme


def test_with_qc_required_the_grading_button_explains_why_it_waits(qc_required):
    with qc_required:
        batch = BatchFactory()
    client = qc_required.client(CLERK)

    html = client.get(f"/batches/{batch.pk}/").content.decode()
    refused = client.post(f"/batches/{batch.pk}/transition/", {"to_status": "grading", "version": "1"},
                          follow=True)

    assert re.search(r'value="grading" class="primary" disabled aria-describedby="grading-needs-qc"', html)
    assert 'id="grading-needs-qc"' in html and services.QC_REQUIRED_MESSAGE in html
    assert services.QC_REQUIRED_MESSAGE in refused.content.decode()
    batch.refresh_from_db()
    assert batch.status == "received"


def test_with_qc_required_a_passed_batch_may_start_grading(qc_required, world):
    client = qc_required.client(CLERK)

    html = client.get(f"/batches/{world.batch.pk}/").content.decode()
    response = client.post(f"/batches/{world.batch.pk}/transition/", {"to_status": "grading", "version": "2"})

    assert "grading-needs-qc" not in html
    assert response.status_code == 302
    world.batch.refresh_from_db()
    assert world.batch.status == "grading"


def test_a_manager_adds_and_edits_a_defect_type(acme, world):
    client = acme.client(MANAGER)

    added = client.post(url("defect-type-new", world), {"code": "c-creasing", "name": "Creasing",
                                                        "fruit_type": "citrus", "severity": "minor",
                                                        "active": "on"})
    taken = client.post(url("defect-type-new", world), {"code": "A-BRUISE", "name": "Again", "fruit_type": "",
                                                        "severity": "minor"})
    edited = client.post(url("defect-type-edit", world), {"code": "IGNORED", "name": "Bruise", "fruit_type": "apple",
                                                          "severity": "minor"})

    assert added.status_code == 302 and edited.status_code == 302
    assert "already has a defect A-BRUISE" in taken.content.decode()
    with acme:
        assert DefectType.objects.get(code="C-CREASING").fruit_type == "citrus"
        bruise = DefectType.objects.get(pk=world.defects["A-BRUISE"].pk)
        assert (bruise.code, bruise.name, bruise.severity, bruise.active) == ("A-BRUISE", "Bruise", "minor", False)


def test_the_inspection_list_filters_and_its_queries_do_not_grow(acme, world):
    with acme:
        for _ in range(6):
            inspect(BatchFactory(), {"A-SUNBURN": 1}, sample_size=30, result="pass")
    client = acme.client(MANAGER)

    downgrades = client.get("/batches/qc/?result=downgrade")
    with CaptureQueriesContext(connection) as few:
        client.get("/batches/qc/?ordering=sample_size")
    with acme:
        for _ in range(6):
            inspect(BatchFactory(), {}, sample_size=30, result="pass")
    with CaptureQueriesContext(connection) as many:
        client.get("/batches/qc/?ordering=sample_size")

    assert [i.result for i in downgrades.context["page"]] == ["downgrade"]
    assert len(many) == len(few)


def test_the_qc_link_is_in_the_navigation(acme):
    assert 'href="/batches/qc/report/"' in acme.client(FINANCE).get("/").content.decode()


def test_the_admin_keeps_the_catalogue_through_the_service_and_only_shows_inspections(acme, world):
    client = acme.client(MANAGER)

    added = client.post("/admin/batches/defecttype/add/", {"code": "p-stem", "name": "Stem punctures",
                                                           "fruit_type": "pear", "severity": "major",
                                                           "active": "on"})
    taken = client.post("/admin/batches/defecttype/add/", {"code": "A-BRUISE", "name": "Again", "fruit_type": "",
                                                           "severity": "minor"})
    inspections = client.get("/admin/batches/qcinspection/")

    assert added.status_code == 302
    assert taken.status_code == 200 and "already has a defect A-BRUISE" in taken.content.decode()
    assert inspections.status_code == 200 and world.batch.batch_code in inspections.content.decode()
    assert client.get("/admin/batches/qcinspection/add/").status_code == 403
    with acme:
        assert DefectType.objects.get(code="P-STEM").severity == "major"
