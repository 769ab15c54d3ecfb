"""The demo's payments make sense to the reconciliation: everyone paid for their fruit but a few named growers."""

from io import StringIO

import pytest
from django.core.management import call_command

from demo.payment_plan import MISPAID_EVERY, OVER_PAID, UNDER_PAID
from reconciliation.report import reconcile, resolve_period

pytestmark = pytest.mark.django_db


def test_only_the_deliberately_mispaid_growers_need_attention(acme):
    call_command("seed_demo", "--schema", "acme", "--batches", "300", "--growers", "10", "--packhouses", "2",
                 "--seed", "5", stdout=StringIO(), stderr=StringIO())
    with acme:
        period = resolve_period()
        report = reconcile(period.date_from, period.date_to, period=period)

    flagged = {row.grower_code: row.balance for row in report.rows if row.flagged}
    mispaid = {f"G{index:04d}" for index in range(1, 11) if index % MISPAID_EVERY in (UNDER_PAID, OVER_PAID)}
    assert set(flagged) == mispaid == {"G0003", "G0007"}
    assert flagged["G0003"] > 0 > flagged["G0007"]  # under-paid: owed to the grower; over-paid: in credit
    assert all(abs(row.balance) < 1 for row in report.rows if not row.flagged)
