import csv
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches import services
from batches.models import Batch, BatchHistory
from core.tenancy import company_today
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory

from .factories import BatchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(acme):
    with acme:
        grower = GrowerFactory(code="G0042", name="Oak Valley")
        block = block_for(grower, "apple", "Gala")
        return {"grower": grower, "block": block, "packhouse": PackhouseFactory(code="PH1")}


def intake_form(site, **overrides):
    data = {"block": "G0042-F1/B01", "packhouse": site["packhouse"].pk,
            "harvest_date": company_today().isoformat(), "bin_count": "10", "gross_weight_kg": "4200",
            "tare_weight_kg": "400", "notes": "", "idempotency_key": uuid.uuid4().hex}
    data.update(overrides)
    return data


def test_pressing_save_twice_records_one_batch(acme, site):
    client = acme.client("Clerk")
    form = intake_form(site)

    first = client.post("/batches/new/", form)
    again = client.post("/batches/new/", form, follow=True)

    assert "was already recorded; nothing was added" in again.content.decode()
    assert again.redirect_chain[-1][0] == first["Location"]
    with acme:
        assert Batch.objects.count() == 1


def test_the_intake_form_carries_a_new_key_each_time(acme, site):
    client = acme.client("Clerk")

    keys = {client.get("/batches/new/").context["form"].initial["idempotency_key"] for _ in range(2)}

    assert len(keys) == 2


def test_intake_records_the_batch_and_shows_the_docket(acme, site):
    client = acme.client("Clerk")

    response = client.post("/batches/new/", intake_form(site), follow=True)

    assert response.redirect_chain[-1][0].endswith("/docket/")
    html = response.content.decode()
    code = re.search(r'data-testid="batch-code">([^<]+)<', html).group(1)
    assert re.fullmatch(r"PH1-\d{8}-0001", code)
    assert "<svg" in html and "3\u00a0800,00 kg" in html and "G0042 Oak Valley" in html
    with acme:
        batch = Batch.objects.get(batch_code=code)
        assert batch.created_by == acme.user("Clerk")
        assert BatchHistory.objects.filter(batch=batch, event="created").count() == 1


def test_a_suggestion_with_the_name_is_accepted(acme, site):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, grower="g0042 Oak Valley (Ceres)"))

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"tare_weight_kg": "4200"}, "tare_weight_kg", "tare weight must be less than the gross weight"),
        ({"harvest_date": "2999-01-01"}, "harvest_date", "cannot be in the future"),
        ({"block": "G9999-F1/B01"}, "block", "No block G9999-F1/B01"),
        ({"block": ""}, "block", "This field is required"),
        ({"bin_count": "0"}, "bin_count", "greater than or equal to 1"),
        ({"gross_weight_kg": "-1"}, "gross_weight_kg", "greater than or equal to 0"),
        ({"gross_weight_kg": "12.345"}, "gross_weight_kg", "2 decimal places"),
        ({"notes": "<script>alert(1)</script>" * 300}, "notes", "at most"),
    ],
)
def test_bad_intake_shows_the_error_beside_the_field_and_saves_nothing(acme, site, overrides, field, message):
    response = acme.client("Clerk").post("/batches/new/", intake_form(site, **overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    assert f'id="id_{field}_errors"' in response.content.decode()
    with acme:
        assert not Batch.objects.exists()


def test_inactive_grower_is_refused_beside_the_grower(acme, site):
    with acme:
        site["grower"].active = False
        site["grower"].save()

    response = acme.client("Clerk").post("/batches/new/", intake_form(site))

    assert "inactive" in " ".join(response.context["form"].errors["block"])


def test_hostile_text_is_stored_as_typed_and_escaped(acme, site):
    note = '<img src=x onerror="alert(1)"> ünïcødé 🍎'
    client = acme.client("Clerk")

    with acme:
        hostile_block = block_for(site["grower"], "apple", "Gala <b>")
    form = intake_form(site, notes=note, block=f"{hostile_block.farm.code}/{hostile_block.code}")
    response = client.post("/batches/new/", form, follow=True)

    with acme:
        batch = Batch.objects.get()
    assert (batch.notes, batch.variety) == (note, "Gala <b>")
    html = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "Gala &lt;b&gt;" in response.content.decode()


def test_detail_offers_only_the_allowed_moves(acme):
    with acme:
        batch = BatchFactory()

    html = acme.client("Clerk").get(f"/batches/{batch.pk}/").content.decode()

    assert 'value="grading" class="primary">Start grading' in html
    assert "Mark packed" not in html and "Dispatch<" not in html
    assert "Reject batch" in html
    assert "Save pack-out" not in html  # only while grading or packing


def test_finance_sees_the_batch_without_buttons(acme):
    with acme:
        batch = BatchFactory()

    html = acme.client("Finance").get(f"/batches/{batch.pk}/").content.decode()

    assert "Start grading" not in html and "Reject batch" not in html


def test_clerk_moves_a_batch_to_packed(acme):
    with acme:
        batch = BatchFactory()
    client = acme.client("Clerk")

    client.post(f"/batches/{batch.pk}/transition/", {"to_status": "grading", "version": "1"})
    response = client.post(f"/batches/{batch.pk}/packout/", {
        "class1_kg": "3000", "class2_kg": "300", "class3_kg": "0", "waste_kg": "200", "version": "2",
    }, follow=True)
    assert "94.3%" in response.content.decode()
    client.post(f"/batches/{batch.pk}/transition/", {"to_status": "packing", "version": "3"})
    response = client.post(f"/batches/{batch.pk}/transition/", {"to_status": "packed", "version": "4"}, follow=True)

    html = response.content.decode()
    assert 'data-testid="status">Packed<' in html
    assert "is now packed" in html


def test_reject_without_a_reason_is_refused_with_a_message(acme):
    with acme:
        batch = BatchFactory()

    response = acme.client("Clerk").post(
        f"/batches/{batch.pk}/transition/", {"to_status": "rejected", "reason": " ", "version": "1"}, follow=True,
    )

    assert "Say why the batch is rejected" in response.content.decode()
    with acme:
        batch.refresh_from_db()
    assert batch.status == "received"


def test_a_stale_page_cannot_overwrite_a_newer_move(acme):
    with acme:
        batch = services.transition(BatchFactory(), "grading")

    response = acme.client("Clerk").post(
        f"/batches/{batch.pk}/transition/", {"to_status": "rejected", "reason": "x", "version": "1"}, follow=True,
    )

    assert "has changed since you loaded it" in response.content.decode()


def test_packout_over_net_shows_the_error_on_the_form(acme):
    with acme:
        batch = services.transition(BatchFactory(), "grading")

    response = acme.client("Clerk").post(f"/batches/{batch.pk}/packout/", {
        "class1_kg": "9999", "class2_kg": "0", "class3_kg": "0", "waste_kg": "0", "version": "2",
    })

    assert response.status_code == 200
    assert "more than the batch&#x27;s net" in response.content.decode()
    with acme:
        batch.refresh_from_db()
    assert batch.class1_kg is None


@pytest.fixture
def six(acme):
    with acme:
        grower, other = GrowerFactory(code="G0001"), GrowerFactory(code="G0002")
        batches = [BatchFactory(grower=grower, gross_weight_kg=Decimal(3000 + n)) for n in range(4)]
        batches += [BatchFactory(grower=other, fruit_type="pear", variety="Forelle") for _ in range(2)]
        services.transition(batches[0], "rejected", reason="Hail")
    return batches


def codes_in(html):
    return re.findall(r">([A-Z0-9]+-\d{8}-\d{4})</a>", html)


def test_list_filters_and_sorts(acme, six):
    client = acme.client("Finance")

    pears = codes_in(client.get("/batches/?fruit_type=pear").content.decode())
    g1 = codes_in(client.get("/batches/?grower_code=g0001&ordering=-net_weight_kg").content.decode())
    rejected = codes_in(client.get("/batches/?status=rejected").content.decode())

    assert sorted(pears) == sorted(b.batch_code for b in six[4:])
    assert g1 == [b.batch_code for b in reversed(six[:4])]
    assert rejected == [six[0].batch_code]


def test_bad_filter_shows_an_error_not_a_crash(acme, six):
    response = acme.client("Clerk").get("/batches/?status=eaten&intake_date_after=notadate")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert codes_in(response.content.decode()) == []


def test_list_paginates(acme, six):
    from batches import views

    views.PAGE_SIZE, saved = 4, views.PAGE_SIZE
    try:
        first = acme.client("Clerk").get("/batches/?ordering=batch_code").content.decode()
        second = acme.client("Clerk").get("/batches/?ordering=batch_code&page=2").content.decode()
        beyond = acme.client("Clerk").get("/batches/?page=99").status_code
    finally:
        views.PAGE_SIZE = saved

    assert len(codes_in(first)) == 4 and len(codes_in(second)) == 2
    assert not set(codes_in(first)) & set(codes_in(second))
    assert "Page 1 of 2" in first and "ordering=batch_code" in first.split('rel="next"')[0].rsplit("href", 1)[1]
    assert beyond == 200


def test_list_query_count_does_not_grow_with_rows(acme):
    client = acme.client("Clerk")
    with acme:
        BatchFactory()
    client.get("/batches/")  # warm up: the first request also caches the host's company
    with CaptureQueriesContext(connection) as few:
        client.get("/batches/")
    with acme:
        for _ in range(30):
            BatchFactory()
    with CaptureQueriesContext(connection) as many:
        client.get("/batches/")

    assert len(many) == len(few)


def test_csv_export_streams_the_current_filter(acme, six):
    response = acme.client("Clerk").get("/batches/export.csv?fruit_type=pear")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Batch code", "Intake", "Grower code"]
    assert sorted(row[0] for row in rows[1:]) == sorted(b.batch_code for b in six[4:])


def test_csv_export_defuses_formulas(acme, site):
    with acme:
        BatchFactory(grower=site["grower"], packhouse=site["packhouse"], variety="=HYPERLINK(\"http://x\")")

    body = b"".join(acme.client("Clerk").get("/batches/export.csv").streaming_content).decode()

    assert "'=HYPERLINK" in body


def test_csv_export_with_a_bad_filter_goes_back_with_a_message(acme):
    response = acme.client("Clerk").get("/batches/export.csv?status=eaten", follow=True)

    assert "Fix the filter before exporting" in response.content.decode()


def test_the_next_intake_starts_at_the_packhouse_of_the_last_and_offers_its_block(acme):
    import re as _re

    from batches.models import Batch
    from core.tenancy import company_today
    from growers.tests.factories import GrowerFactory, block_for
    from packhouses.tests.factories import PackhouseFactory

    with acme:
        PackhouseFactory(code="PHA")
        second = PackhouseFactory(code="PHB")
        block = block_for(GrowerFactory())
        today = company_today().isoformat()
    client = acme.client("Clerk")
    html = client.get("/batches/new/").content.decode()
    key = _re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    response = client.post("/batches/new/", {
        "idempotency_key": key, "block": f"{block.farm.code}/{block.code}", "packhouse": second.pk,
        "harvest_date": today, "bin_count": "3", "gross_weight_kg": "1300", "tare_weight_kg": "100",
    })
    with acme:
        assert Batch.objects.filter(packhouse=second).count() == (1 if response.status_code == 302 else 0)
    assert response.status_code == 302, response.content.decode()[:2000]

    html = client.get("/batches/new/").content.decode()
    assert _re.search(rf'<option value="{second.pk}" selected>', html)
    assert f'value="{block.farm.code}/{block.code}"' in html
