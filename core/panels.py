"""Panels that a higher app adds to a lower app's detail page.

The grower page shows the grower's deliveries, payments and balance, but
growers sits below batches, payments and reconciliation and never imports
them. Each of those apps registers its panel for the page (in its
AppConfig.ready); the page renders those the user may see, in order.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    template: str
    permission: str
    data: Callable[[Any], dict]  # the page's object -> what the template shows
    order: int = 100


_pages: dict[str, list[Panel]] = {}


def register(page, panel):
    panels = _pages.setdefault(page, [])
    if panel not in panels:
        panels.append(panel)
        panels.sort(key=lambda each: each.order)


def panels_for(page, user, obj):
    """(template, data) for each panel of `page` that `user` may see."""
    return [(panel.template, panel.data(obj)) for panel in _pages.get(page, ()) if user.has_perm(panel.permission)]
