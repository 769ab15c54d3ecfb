"""The reconciliation page as people read it (issue 13, item 6): filled on arrival, sorted by its headers in one
query, the balance in words, how many growers need attention, thresholds from the company's settings.

The numbers are those of the `march` fixture (conftest.py): over March 2026 GA01 is owed 27,300.00, GB01
100.00, GC01 17,500.00; GE01 was over-paid 1,000.00; GF01 is settled.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context

from growers.tests.factories import GrowerFactory
from reconciliation.report import ORDERINGS
from tenants import services as tenant_services
from tenants.models import Company

from .helpers import intake, local

pytestmark = pytest.mark.django_db

MARCH = "from=2026-03-01&to=2026-03-31"
URL = "/reconciliation/"
IN_MARCH = ["GA01", "GB01", "GC01", "GE01", "GF01"]


def grower_order(html):
    """The grower codes of the table's rows, top to bottom."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'/statement/\?[^"]*">(G[A-Z0-9]+) ', body)


def row_of(html, code):
    return html.split(f">{code} ", 1)[1].split("</tr>", 1)[0]


def test_the_page_arrives_filled(acme, march):
    response = acme.client("Finance").get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["report"] is not None
    assert "GA01" in html and "<tbody>" in html
    assert 'aria-sort="ascending"' in html.split("</th>", 1)[0]  # sorted by grower, and says so


@pytest.mark.parametrize(("ordering", "expected"), [
    ("grower_code", IN_MARCH),
    ("-grower_code", IN_MARCH[::-1]),
    ("balance", ["GE01", "GF01", "GB01", "GC01", "GA01"]),
    ("-balance", ["GA01", "GC01", "GB01", "GF01", "GE01"]),
    ("expected_value", ["GE01", "GB01", "GC01", "GF01", "GA01"]),
    ("-total_paid", ["GF01", "GA01", "GB01", "GE01", "GC01"]),
    ("-unpriced_batches", ["GC01", "GA01", "GB01", "GE01", "GF01"]),
])
def test_the_table_sorts_by_its_headers(acme, march, ordering, expected):
    html = acme.client("Finance").get(f"{URL}?{MARCH}&ordering={ordering}").content.decode()

    assert grower_order(html) == expected
    key = ordering.lstrip("-")
    header = html.split(f'data-sort="{key}"', 1)[0].rsplit("<th", 1)[1]
    assert f'aria-sort="{"descending" if ordering.startswith("-") else "ascending"}"' in header
    # The header links keep the period and turn the order around.
    link = re.search(rf'href="\?([^"]*)" data-sort="{key}"', html).group(1)
    assert "from=2026-03-01" in link and f"ordering={'' if ordering.startswith('-') else '-'}{key}" in link


@pytest.mark.parametrize("key", ["grower_code", "batches", "net_kg", "expected_value", "total_paid", "balance",
                                 "variance_percent", "unpriced_batches"])
def test_every_sortable_column_has_a_header_and_sorts(acme, march, key):
    assert key in ORDERINGS
    response = acme.client("Finance").get(f"{URL}?{MARCH}&ordering=-{key}")

    assert response.status_code == 200
    assert sorted(grower_order(response.content.decode())) == IN_MARCH
    assert response.context["report"].filters["ordering"] == f"-{key}"


def test_a_bad_ordering_is_ignored_by_the_page_and_refused_by_the_api(acme, march):
    page = acme.client("Finance").get(f"{URL}?{MARCH}&ordering=drop_table")
    api = acme.api_client("Finance").get(f"/api/reconciliation/?{MARCH}&ordering=drop_table")

    assert page.status_code == 200 and grower_order(page.content.decode()) == IN_MARCH
    assert api.status_code == 400 and "ordering" in api.json()["errors"]


def test_sorting_is_one_query_whatever_the_order_and_the_number_of_growers(acme, march):
    client = acme.client("Finance")
    client.get(f"{URL}?{MARCH}")  # sessions and caches warm

    def queries(ordering):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{URL}?{MARCH}&ordering={ordering}").status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    by_code, by_balance = queries("grower_code"), queries("-balance")
    with acme:
        for number in range(8):
            intake(GrowerFactory(code=f"GX{number:02d}"), march.ph1, local(2026, 3, 10))
    more_growers = queries("-balance")

    assert len(by_code) == len(by_balance) == len(more_growers)
    assert sum("grower_payments" in sql for sql in more_growers) == 1  # the report's one statement


def test_the_balance_is_in_words_never_a_bare_minus(acme, march):
    html = acme.client("Finance").get(f"{URL}?{MARCH}").content.decode()

    # en-ZA, the company's locale: a no-break space groups thousands, a comma marks the decimals.
    assert re.search(r"Owed to grower</span>\s*27\u00a0300,00", row_of(html, "GA01"))
    assert re.search(r"Over-paid</span>\s*1\u00a0000,00", row_of(html, "GE01"))
    assert "-1\u00a0000,00" not in html and "-1000.00" not in html
    assert "Settled" in row_of(html, "GF01")


def test_the_page_says_how_many_growers_need_attention(acme, march):
    client = acme.client("Finance")

    html = client.get(f"{URL}?{MARCH}").content.decode()
    only = client.get(f"{URL}?{MARCH}&flagged=on").content.decode()
    api_style = client.get(f"{URL}?{MARCH}&flagged=true").content.decode()

    assert "3 of 5 growers need attention" in html
    assert "the company's settings" in html
    assert grower_order(only) == ["GA01", "GC01", "GE01"] == grower_order(api_style)
    assert "Showing the" in only and "Show all growers" in only


def test_the_paid_column_folds_the_payment_types(acme, march):
    html = acme.client("Finance").get(f"{URL}?{MARCH}").content.decode()

    paid = row_of(html, "GA01").split('<details class="paid-split">', 1)[1].split("</details>", 1)[0]
    assert "<summary" in paid and "29\u00a0500,00" in paid
    assert "<dt>Advances</dt><dd>30\u00a0000,00</dd>" in paid
    assert "<dt>Adjustments</dt><dd>-2\u00a0000,00</dd>" in paid


def test_the_form_speaks_plainly_and_picks_dates(acme, march):
    html = acme.client("Finance").get(URL).content.decode()

    assert 'type="date" name="from"' in html and 'type="date" name="to"' in html
    assert "Difference more than (amount)" in html and "Show only growers that need attention" in html
    for api_wording in ("|balance|", "(id)", "true: only flagged", "YYYY-MM-DD"):
        assert api_wording not in html


def test_a_bad_date_names_the_field_in_words(acme):
    response = acme.client("Finance").get(f"{URL}?from=2026-13-45")

    assert response.status_code == 400
    errors = response.content.decode().split('id="id_from_errors"', 1)[1].split("</div>", 1)[0]
    assert "Enter a valid date" in errors
    assert response.context["form"].fields["from"].label == "From"


def test_the_thresholds_are_the_companys_settings(acme, march, committed):
    client = acme.client("Finance")
    before = client.get(f"{URL}?{MARCH}").content.decode()
    with schema_context(get_public_schema_name()):
        company = Company.objects.get(schema_name="acme")
    with committed():
        tenant_services.update_company_settings(company, variance_threshold_amount="50.00",
                                                variance_threshold_percent="50.00")

    after = client.get(f"{URL}?{MARCH}")

    assert "3 of 5 growers need attention" in before
    assert "4 of 5 growers need attention" in after.content.decode()  # GB01's 100.00 is now beyond 50.00
    assert (after.context["report"].threshold_amount, after.context["report"].threshold_percent) == (50, 50)


def test_a_threshold_of_zero_is_a_setting_not_a_missing_one(acme, march, committed):
    with schema_context(get_public_schema_name()):
        company = Company.objects.get(schema_name="acme")
    with committed():
        tenant_services.update_company_settings(company, variance_threshold_amount="0.00",
                                                variance_threshold_percent="0.00")

    report = acme.client("Finance").get(f"{URL}?{MARCH}").context["report"]

    assert (report.threshold_amount, report.threshold_percent) == (0, 0)
    assert report.totals.flagged_growers == 4  # all but the settled GF01


def test_the_statement_says_who_owes_whom(acme, march):
    client = acme.client("Finance")
    owed = client.get(f"/reconciliation/growers/{march.a.pk}/statement/?{MARCH}").content.decode()
    over = client.get(f"/reconciliation/growers/{march.e.pk}/statement/?{MARCH}").content.decode()

    assert re.search(r'data-testid="closing-balance"><span class="balance-word">Owed to grower</span>', owed)
    assert "is owed to Farm GA01" in owed
    assert re.search(r'data-testid="closing-balance"><span class="balance-word">Over-paid</span>\s*1\u00a0000,00', over)
    assert "Farm GE01 was over-paid by ZAR 1\u00a0000,00." in over and "-1\u00a0000,00" not in over
    assert 'type="date" name="from"' in over
