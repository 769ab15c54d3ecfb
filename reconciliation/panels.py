"""The balance panel on the grower page (core/panels.py)."""

from core.panels import Panel, register

from .models import VIEW_PERMISSION
from .report import grower_statement, resolve_period


def grower_balance(grower):
    # The current season (or, with none, the 365 days up to today), as the statement page shows by default.
    period = resolve_period()
    return {"statement": grower_statement(grower, period.date_from, period.date_to), "period": period}


register("grower", Panel("reconciliation/panels/grower_balance.html", VIEW_PERMISSION, grower_balance, order=10))
