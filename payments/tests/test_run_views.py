"""The pages and API of payment runs and remittance advices: roles, the other company, PDF, CSV, query counts."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from payments import services
from payments.models import GrowerPayment, PaymentRun, RemittanceAdvice, RunStatus

from .runs_helpers import approved_run, closed_pool

pytestmark = pytest.mark.django_db
D = Decimal
NBSP = "\u00a0"


@pytest.fixture
def pool(acme):
    with acme:
        return closed_pool()


@pytest.fixture
def posted(acme, pool):
    with acme:
        run = approved_run(pool, acme.user("Finance"), acme.user("Manager"))
        services.post_run(run, by=acme.user("Finance"))
        return run


def test_finance_prepares_on_the_pool_page_is_refused_approval_and_a_manager_approves(acme, pool):
    finance = acme.client("Finance")
    assert "Prepare payment run" in finance.get(f"/pools/{pool.pk}/").content.decode()

    response = finance.post(f"/payments/runs/prepare/{pool.pk}/")
    with acme:
        run = PaymentRun.objects.get(pool=pool)
        negative = run.lines.get(final__lt=0)
    assert response.status_code == 302 and response["Location"] == f"/payments/runs/{run.pk}/"
    html = finance.get(f"/payments/runs/{run.pk}/").content.decode()
    assert "GB002&#x27;s final is ZAR -435,00: carry it forward or hold it." in html.replace(NBSP, " ")
    assert f'href="/payments/runs/{run.pk}/#line-{negative.pk}"' in html
    assert "465,00" in html

    finance.post(f"/payments/runs/{run.pk}/lines/{negative.pk}/decide/", {"decision": "carry_forward"})
    refused = finance.post(f"/payments/runs/{run.pk}/approve/", follow=True).content.decode()
    assert "You prepared PR-" in refused
    with acme:
        assert PaymentRun.objects.get(pk=run.pk).status == RunStatus.DRAFT

    acme.client("Manager").post(f"/payments/runs/{run.pk}/approve/")
    done = finance.post(f"/payments/runs/{run.pk}/post/", follow=True).content.decode()
    assert "posted: payments and remittance advices written" in done
    again = finance.post(f"/payments/runs/{run.pk}/post/", follow=True).content.decode()
    assert "already posted; nothing was added" in again
    with acme:
        assert GrowerPayment.objects.filter(reference__startswith=run.reference).count() == 8


@pytest.mark.parametrize(("role", "status"), [("Finance", 200), ("Manager", 200), ("Clerk", 403)])
def test_who_sees_runs_and_remittances(acme, posted, role, status):
    client = acme.client(role)
    with acme:
        advice = RemittanceAdvice.objects.order_by("number").first()
    for url in ("/payments/runs/", f"/payments/runs/{posted.pk}/", "/payments/remittances/",
                f"/payments/remittances/{advice.pk}/", f"/payments/remittances/{advice.pk}/csv/"):
        assert client.get(url).status_code == status, url


def test_a_clerk_may_not_prepare_approve_or_post(acme, pool):
    clerk = acme.client("Clerk")
    assert clerk.post(f"/payments/runs/prepare/{pool.pk}/").status_code == 403
    with acme:
        run = services.prepare_run(pool, by=acme.user("Finance"))
    for action in ("approve", "post", "cancel"):
        assert clerk.post(f"/payments/runs/{run.pk}/{action}/").status_code == 403
    with acme:
        assert PaymentRun.objects.get(pk=run.pk).status == RunStatus.DRAFT


def test_anonymous_is_sent_to_login_and_the_api_answers_401(acme, posted):
    assert acme.client().get(f"/payments/runs/{posted.pk}/").status_code == 302
    assert acme.client().get("/payments/remittances/").status_code == 302
    assert acme.api_client().get("/api/payment-runs/").status_code == 401
    assert acme.api_client().post(f"/api/payment-runs/{posted.pk}/post/").status_code == 401


def test_the_other_company_finds_no_such_run_or_advice(acme, globex, posted):
    with acme:
        advice = RemittanceAdvice.objects.first()
    client = globex.client("Manager")
    assert client.get(f"/payments/runs/{posted.pk}/").status_code == 404
    assert client.get(f"/payments/remittances/{advice.pk}/pdf/").status_code == 404
    api = globex.api_client("Manager")
    assert api.get(f"/api/payment-runs/{posted.pk}/").status_code == 404
    assert api.post(f"/api/payment-runs/{posted.pk}/cancel/").status_code == 404
    assert api.get(f"/api/remittances/{advice.pk}/").status_code == 404


def test_the_remittance_page_pdf_and_csv_show_every_figure(acme, posted):
    with acme:
        advice = RemittanceAdvice.objects.get(grower__code="GA001")
    client = acme.client("Finance")
    html = client.get(f"/payments/remittances/{advice.pk}/").content.decode().replace(NBSP, " ")
    for text in ("RA-000001", "800,00", "× 0,6250", "= 500,00", "Per kg packed", "900,00", "× 0,1000", "90,00",
                 "× 5,0000 %", "35,00", "700,00", "100,00", "ZAR 465,00"):
        assert text in html, text

    pdf = client.get(f"/payments/remittances/{advice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).replace(NBSP, " ")
    assert "RA-000001" in text and "465,00" in text and "Commission" in text

    csv = b"".join(client.get(f"/payments/remittances/{advice.pk}/csv/").streaming_content).decode()
    assert "RA-000001,GA001,P-RUN" in csv and ",charge,Packing,per_kg_packed,900.00,0.1000,90.00" in csv
    assert ",total,final,,,,465.00" in csv


def test_the_api_prepares_refuses_the_preparer_approves_posts_once(acme, pool):
    finance, manager = acme.api_client("Finance"), acme.api_client("Manager")
    created = finance.post("/api/payment-runs/", {"pool": pool.pk}, format="json")
    assert created.status_code == 201, created.content
    run = created.json()
    assert [issue["code"] for issue in run["issues"]] == ["negative_undecided"]
    negative = next(line for line in run["lines"] if D(line["final"]) < 0)
    decided = finance.post(f"/api/payment-runs/{run['id']}/decide/",
                           {"line": negative["id"], "decision": "carry_forward"}, format="json")
    assert decided.status_code == 200 and decided.json()["issues"] == []
    assert finance.post(f"/api/payment-runs/{run['id']}/approve/").status_code == 403
    assert acme.api_client("Clerk").post(f"/api/payment-runs/{run['id']}/approve/").status_code == 403
    assert manager.post(f"/api/payment-runs/{run['id']}/approve/").json()["status"] == "approved"
    assert finance.post(f"/api/payment-runs/{run['id']}/post/").json()["status"] == "posted"
    assert finance.post(f"/api/payment-runs/{run['id']}/post/").status_code == 200
    assert finance.post(f"/api/payment-runs/{run['id']}/cancel/").status_code == 409
    listed = finance.get("/api/remittances/?grower_code=GA001").json()
    assert [row["number"] for row in listed["items"]] == ["RA-000001"]
    assert finance.get(f"/api/remittances/{listed['items'][0]['id']}/pdf/")["Content-Type"] == "application/pdf"
    with acme:
        assert GrowerPayment.objects.filter(reference__startswith=f"PR-{run['id']}").count() == 8


def test_the_api_refuses_an_open_pool_with_a_message(acme):
    with acme:
        pool = closed_pool(close=False)
    response = acme.api_client("Finance").post("/api/payment-runs/", {"pool": pool.pk}, format="json")
    assert response.status_code == 400 and "close it first" in response.content.decode()


def _more_runs(acme, n):
    with acme:
        for index in range(n):
            pool = closed_pool(code=f"P-Q{index}", fruit_type="pear", variety=f"V{index}",
                               growers=(f"GQ{index}A", f"GQ{index}B"))
            services.post_run(approved_run(pool, acme.user("Finance"), acme.user("Manager")),
                              by=acme.user("Finance"))


@pytest.mark.parametrize("url", ["/payments/runs/", "/payments/remittances/", "/api/payment-runs/",
                                 "/api/remittances/"])
def test_list_queries_do_not_grow_with_the_page(acme, posted, url):
    client = acme.api_client("Finance") if url.startswith("/api/") else acme.client("Finance")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _more_runs(acme, 2)
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200
    assert len(three) == len(one)
