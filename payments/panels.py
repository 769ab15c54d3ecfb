"""The payments panel on the grower page (core/panels.py)."""

from core.panels import Panel, register

from .models import GrowerPayment

RECENT = 20


def grower_payments(grower):
    return {"payments": GrowerPayment.objects.filter(grower=grower)[:RECENT]}


register("grower", Panel("payments/panels/grower_payments.html", "payments.view_growerpayment", grower_payments,
                         order=30))
