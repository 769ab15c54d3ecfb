"""The imports pages: who may use them, the upload, the preview and the confirmation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from growers.models import Grower
from onboarding import services
from onboarding.models import ImportRun
from payments.models import PriceAgreement

from .helpers import csv_bytes

pytestmark = pytest.mark.django_db

GROWERS = csv_bytes("code,name,region", "G0001,Oak,Ceres", "G0002,Elm,Ceres")


def post_file(client, kind, content, name="file.csv"):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(name, content)}, follow=True)


def test_a_manager_uploads_previews_and_confirms(acme):
    client = acme.client("Manager")
    response = post_file(client, "growers", GROWERS)

    html = response.content.decode()
    assert "2 new" in html and "Confirm the import" in html and "G0002" in html
    with acme:
        assert not Grower.objects.exists()
        run = ImportRun.objects.get()

    done = client.post(f"/imports/{run.pk}/confirm/", follow=True).content.decode()

    assert "Imported: 2 new, 0 changed, 0 unchanged." in done
    with acme:
        assert Grower.objects.count() == 2


def test_the_preview_lists_refused_rows_with_their_reason_and_offers_no_confirmation(acme):
    client = acme.client("Manager")
    html = post_file(client, "growers", csv_bytes("code,name,ggn", "G0001,Oak,", "G0002,Elm,12")).content.decode()

    assert "1 refused" in html and "13 digits" in html
    assert "Confirm the import" not in html and "1 row is refused" in html
    with acme:
        run = ImportRun.objects.get()
    refused_only = client.get(f"/imports/{run.pk}/?status=refused").content.decode()
    assert "G0002" in refused_only and "G0001" not in refused_only.split("<tbody>")[1]


def test_a_confirmation_with_refused_rows_writes_nothing_and_says_why(acme):
    client = acme.client("Manager")
    post_file(client, "growers", csv_bytes("code,name,ggn", "G0001,Oak,", "G0002,Elm,12"))
    with acme:
        run = ImportRun.objects.get()

    html = client.post(f"/imports/{run.pk}/confirm/", follow=True).content.decode()

    assert "an import writes every row or none" in html
    with acme:
        assert not Grower.objects.exists()


def test_a_bad_file_is_shown_beside_the_form(acme):
    response = post_file(acme.client("Manager"), "growers", b"code,nam\nG1,x\n")
    assert response.status_code == 200
    assert "Unknown column nam" in response.content.decode()
    with acme:
        assert not ImportRun.objects.exists()


def test_the_template_csv_names_the_columns(acme):
    response = acme.client("Manager").get("/imports/template/farms.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == "code,grower_code,name,puc,ggn,region,active"


def test_finance_imports_price_agreements_but_not_growers(acme):
    client = acme.client("Finance")
    page = client.get("/imports/").content.decode()
    assert 'value="prices"' in page and 'value="growers"' not in page

    refused = post_file(client, "growers", GROWERS)
    assert "Select a valid choice" in refused.content.decode()
    assert client.get("/imports/template/growers.csv").status_code == 403

    post_file(client, "prices", csv_bytes("fruit_type;grade;valid_from;price_per_kg", "apple;class1;2026-01-01;12,5"))
    with acme:
        run = ImportRun.objects.get()
    client.post(f"/imports/{run.pk}/confirm/")
    with acme:
        assert PriceAgreement.objects.get().created_by.email == "finance@acme.test"


def test_finance_may_not_open_a_growers_import(acme):
    with acme:
        run = services.upload(kind="growers", filename="g.csv", content=GROWERS, by=acme.user("Manager"))
    client = acme.client("Finance")
    assert client.get(f"/imports/{run.pk}/").status_code == 403
    assert client.post(f"/imports/{run.pk}/confirm/").status_code == 403


def test_a_clerk_is_refused(acme):
    client = acme.client("Clerk")
    assert client.get("/imports/").status_code == 403
    assert post_file(client, "growers", GROWERS).status_code == 403
    with acme:
        assert not ImportRun.objects.exists()


def test_anonymous_goes_to_the_login(acme):
    response = acme.client().get("/imports/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_another_company_never_sees_the_run(acme, globex):
    with acme:
        run = services.upload(kind="growers", filename="g.csv", content=GROWERS, by=acme.user("Manager"))
    client = globex.client("Manager")
    assert client.get(f"/imports/{run.pk}/").status_code == 404
    assert client.post(f"/imports/{run.pk}/confirm/").status_code == 404
    assert "g.csv" not in client.get("/imports/").content.decode()
    with acme:
        assert ImportRun.objects.get().status == "ready"


def test_the_admin_lists_runs_read_only(acme):
    with acme:
        run = services.upload(kind="growers", filename="g.csv", content=GROWERS, by=acme.user("Manager"))
    client = acme.client("Manager")  # managers are staff
    listing = client.get("/admin/onboarding/importrun/")
    assert listing.status_code == 200 and "g.csv" in listing.content.decode()
    assert client.get(f"/admin/onboarding/importrun/{run.pk}/change/").status_code == 200
    assert client.get("/admin/onboarding/importrun/add/").status_code == 403
