"""The payments panel on the grower page (core/panels.py)."""

from core.panels import Panel, register

from .models import GrowerPayment, RunStatus

RECENT = 20


def grower_payments(grower):
    return {"payments": GrowerPayment.objects.filter(grower=grower)[:RECENT]}


register("grower", Panel("payments/panels/grower_payments.html", "payments.view_growerpayment", grower_payments,
                         order=30))


def pool_runs(pool):
    runs = list(pool.payment_runs.select_related("prepared_by", "approved_by").order_by("-prepared_at", "-id"))
    return {"pool": pool, "runs": runs, "live": next((run for run in runs if run.status != RunStatus.CANCELLED), None)}


register("pool", Panel("payments/panels/pool_runs.html", "payments.view_paymentrun", pool_runs, order=30))
