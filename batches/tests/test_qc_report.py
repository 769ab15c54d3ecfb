"""The QC report: its figures against an independent computation, its one statement, page, API and CSV."""

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches.models import QCInspection
from batches.qc_catalogue import load_default_catalogue
from batches.qc_report import qc_report
from core.tenancy import company_day_start
from growers.tests.factories import GrowerFactory, block_for

from .factories import BatchFactory
from .qc_helpers import inspect

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 10)  # in the conftest's calendar season 2025


def at(day, hour=10):
    return company_day_start(day) + dt.timedelta(hours=hour)


@pytest.fixture
def season(acme):
    """Two growers, three apple blocks and a pear block, inspected over March 2025; one inspection in April."""
    with acme:
        load_default_catalogue()
        oak, elm = GrowerFactory(code="G-OAK", name="Oak"), GrowerFactory(code="G-ELM", name="Elm")
        gala, fuji = block_for(oak, "apple", "Gala"), block_for(oak, "apple", "Fuji")
        elm_gala, elm_pear = block_for(elm, "apple", "Gala"), block_for(elm, "pear", "Packham")

        def batch(block, day):
            return BatchFactory(block=block, harvest_date=day, intake_date=at(day, 8))

        first = batch(gala, DAY)
        inspect(first, {"A-BRUISE": 6, "A-SUNBURN": 2}, sample_size=100, inspected_at=at(DAY))
        inspect(first, {"A-BRUISE": 1}, sample_size=50, result="downgrade", inspected_at=at(DAY, 11))
        inspect(batch(gala, DAY + dt.timedelta(days=3)), {"A-CODLING": 3, "DECAY": 1}, sample_size=80,
                inspected_at=at(DAY + dt.timedelta(days=3)))
        inspect(batch(fuji, DAY), {}, sample_size=40, inspected_at=at(DAY, 12))
        inspect(batch(elm_gala, DAY + dt.timedelta(days=1)), {"A-BRUISE": 10}, sample_size=60, result="reject",
                inspected_at=at(DAY + dt.timedelta(days=1)))
        inspect(batch(elm_pear, DAY + dt.timedelta(days=2)), {"P-SCAB": 4, "HAIL": 2}, sample_size=100,
                inspected_at=at(DAY + dt.timedelta(days=2)))
        inspect(batch(gala, dt.date(2025, 4, 2)), {"A-BRUISE": 50}, sample_size=50,
                inspected_at=at(dt.date(2025, 4, 2)))
    return {"oak": oak, "elm": elm}


def expected(first, last, fruit_type=None, grower=None):
    """The report worked out in Python from the ORM, row by row, as the docstring of qc_report defines it."""
    start, end = company_day_start(first), company_day_start(last + dt.timedelta(days=1))
    sampled = defaultdict(lambda: [0, 0])
    found = defaultdict(int)
    for inspection in QCInspection.objects.select_related("batch").prefetch_related("defects__defect_type"):
        batch = inspection.batch
        if not start <= inspection.inspected_at < end or (fruit_type and batch.fruit_type != fruit_type) or (
                grower and batch.grower_id != grower.pk):
            continue
        key = (batch.grower.code, batch.block.farm.code, batch.block.code)
        sampled[key][0] += 1
        sampled[key][1] += inspection.sample_size
        for defect in inspection.defects.all():
            found[(*key, defect.defect_type.code)] += defect.count
    rows = []
    for key, (inspections, fruit) in sampled.items():
        codes = [code for (*k, code) in found if tuple(k) == key] or [None]
        for code in codes:
            count = found.get((*key, code), 0)
            percent = (Decimal(count) * 100 / fruit).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            rows.append((*key, code, inspections, fruit, count, percent))
    return sorted(rows, key=lambda r: (r[0], r[1], r[2], -r[7], r[3] or "~"))


def got(report):
    return [(r.grower_code, r.farm_code, r.block_code, r.defect_code, r.inspections, r.fruit_sampled, r.defective,
             r.defect_percent) for r in report.rows]


@pytest.mark.parametrize(("first", "last", "filters"), [
    (dt.date(2025, 3, 1), dt.date(2025, 3, 31), {}),
    (dt.date(2025, 3, 1), dt.date(2025, 4, 30), {}),
    (dt.date(2025, 3, 11), dt.date(2025, 3, 12), {}),
    (dt.date(2025, 3, 1), dt.date(2025, 3, 31), {"fruit_type": "pear"}),
    (dt.date(2025, 3, 1), dt.date(2025, 4, 30), {"fruit_type": "apple", "grower": "oak"}),
])
def test_the_figures_match_an_independent_computation(acme, season, first, last, filters):
    if "grower" in filters:
        filters = {**filters, "grower": season[filters["grower"]]}
    with acme:
        report = qc_report(first, last, **filters)

        assert got(report) == expected(first, last, **filters)
        assert report.total == len(report.rows) > 0


def test_a_defect_percent_is_over_every_fruit_sampled_from_the_block(acme, season):
    with acme:
        report = qc_report(dt.date(2025, 3, 1), dt.date(2025, 3, 31), grower=season["oak"])

    rows = {(r.block_code, r.defect_code): r for r in report.rows}
    gala_bruise = next(r for (block, code), r in rows.items() if code == "A-BRUISE")
    # Gala: 100 + 50 + 80 fruit in three inspections; bruising 6 + 1.
    assert (gala_bruise.inspections, gala_bruise.fruit_sampled, gala_bruise.defective) == (3, 230, 7)
    assert gala_bruise.defect_percent == Decimal("3.04")
    clean = [r for r in report.rows if r.defect_code is None]
    assert len(clean) == 1 and clean[0].variety == "Fuji" and clean[0].defect_percent == 0
    assert (report.inspections, report.fruit_sampled) == (4, 270)


def test_the_report_is_one_sql_statement_whatever_its_size(acme, season):
    with acme:
        with CaptureQueriesContext(connection) as small:
            qc_report(dt.date(2025, 3, 11), dt.date(2025, 3, 11))
        with CaptureQueriesContext(connection) as large:
            report = qc_report(dt.date(2025, 1, 1), dt.date(2025, 12, 31))

    # django-tenants may first SET the search_path of the connection: not part of the report.
    def statements(captured):
        return [q["sql"] for q in captured if not q["sql"].startswith("SET ")]

    assert len(statements(small)) == len(statements(large)) == 1
    assert len(report.rows) > 5


def test_pages_of_the_report_keep_the_total(acme, season):
    with acme:
        whole = qc_report(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
        pages = [qc_report(dt.date(2025, 1, 1), dt.date(2025, 12, 31), limit=3, offset=offset)
                 for offset in range(0, whole.total + 3, 3)]

    assert [row for page in pages for row in page.rows] == whole.rows
    assert {page.total for page in pages} == {whole.total}
    assert pages[-1].rows == [] and pages[-1].inspections == whole.inspections


@pytest.mark.parametrize(("first", "last", "field"), [
    (dt.date(2025, 3, 31), dt.date(2025, 3, 1), "to"),
    (dt.date(2020, 1, 1), dt.date(2024, 1, 1), "to"),
    (dt.date(1900, 1, 1), dt.date(2025, 1, 1), "from"),
])
def test_a_bad_period_is_refused(acme, first, last, field):
    with acme, pytest.raises(ValidationError) as refused:
        qc_report(first, last)

    assert field in refused.value.message_dict


def test_the_page_defaults_to_the_current_season(acme):
    from seasons.services import current_season

    with acme:
        season = current_season()

    response = acme.client("Finance").get("/batches/qc/report/")

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.date_from, report.date_to) == (season.start_date, season.end_date)


def test_the_page_api_and_csv_give_the_same_figures(acme, season):
    query = "from=2025-03-01&to=2025-03-31"
    with acme:
        report = qc_report(dt.date(2025, 3, 1), dt.date(2025, 3, 31))

    page = acme.client("Finance").get(f"/batches/qc/report/?{query}")
    api = acme.api_client("Finance").get(f"/api/qc-report/?{query}").json()
    download = acme.client("Finance").get(f"/batches/qc/report/?{query}&format=csv")

    assert page.status_code == 200 and page.context["report"].rows == report.rows
    assert "3.04%" in page.content.decode()
    assert api["total"] == report.total and api["limit"] == 50 and api["offset"] == 0
    assert [(i["grower_code"], i["defect_code"], i["defect_percent"]) for i in api["items"]] == [
        (r.grower_code, r.defect_code, f"{r.defect_percent:.2f}") for r in report.rows]
    assert download["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert lines[0][-1] == "Defect %" and len(lines) == report.total + 1
    assert [(line[0], line[6], line[-1]) for line in lines[1:]] == [
        (r.grower_code, r.defect_code or "", str(r.defect_percent)) for r in report.rows]


def test_a_bad_period_on_the_page_and_the_api_is_a_400_with_the_reason(acme):
    page = acme.client("Finance").get("/batches/qc/report/?from=2025-03-31&to=2025-03-01")
    api = acme.api_client("Finance").get("/api/qc-report/?from=yesterday")

    assert page.status_code == 400 and "ends (2025-03-01) before it starts" in page.content.decode()
    assert api.status_code == 400 and "from" in api.json()["errors"]


@pytest.mark.parametrize(("role", "status"), [("Clerk", 200), ("Finance", 200), ("Manager", 200)])
def test_every_role_reads_the_report(acme, role, status):
    assert acme.client(role).get("/batches/qc/report/").status_code == status
    assert acme.api_client(role).get("/api/qc-report/").status_code == status


def test_anonymous_is_sent_to_login_or_refused(acme):
    assert acme.client().get("/batches/qc/report/")["Location"].startswith("/login")
    assert acme.api_client().get("/api/qc-report/").status_code == 401


def test_the_other_company_never_sees_this_ones_figures(acme, globex, season):
    page = globex.client("Manager").get("/batches/qc/report/?from=2025-01-01&to=2025-12-31")
    api = globex.api_client("Manager").get("/api/qc-report/?from=2025-01-01&to=2025-12-31").json()

    assert page.context["report"].rows == [] and api["items"] == [] and api["total"] == 0
    assert "G-OAK" not in page.content.decode()
