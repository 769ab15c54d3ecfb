"""The balance panel on the grower page (core/panels.py)."""

from core.panels import Panel, register

from .models import VIEW_PERMISSION
from .report import default_period, grower_statement


def grower_balance(grower):
    return {"statement": grower_statement(grower, *default_period())}


register("grower", Panel("reconciliation/panels/grower_balance.html", VIEW_PERMISSION, grower_balance, order=10))
