"""The batches panels on the grower and packhouse pages (core/panels.py)."""

from core.panels import Panel, register

from .models import Batch

RECENT = 20


def grower_batches(grower):
    return {"batches": Batch.objects.filter(grower=grower).select_related("packhouse")[:RECENT]}


def packhouse_batches(packhouse):
    return {"batches": Batch.objects.filter(packhouse=packhouse).select_related("grower")[:RECENT]}


register("grower", Panel("batches/panels/grower_batches.html", "batches.view_batch", grower_batches, order=20))
register("packhouse", Panel("batches/panels/packhouse_batches.html", "batches.view_batch", packhouse_batches))
