"""The batches panels on the grower, packhouse and block pages (core/panels.py)."""

from django.db.models import Count, Sum

from core.panels import Panel, register

from .models import Batch

RECENT = 20


def grower_batches(grower):
    return {"batches": Batch.objects.filter(grower=grower).select_related("packhouse")[:RECENT]}


def packhouse_batches(packhouse):
    return {"batches": Batch.objects.filter(packhouse=packhouse).select_related("grower")[:RECENT]}


register("grower", Panel("batches/panels/grower_batches.html", "batches.view_batch", grower_batches, order=20))
register("packhouse", Panel("batches/panels/packhouse_batches.html", "batches.view_batch", packhouse_batches))


RECENT_ON_BLOCK = 10


def block_deliveries(block):
    """The block's deliveries per season (one aggregate query) and its latest batches."""
    seasons = (Batch.objects.filter(block=block).order_by()
               .values("season_id", "season__code", "season__name", "season__start_date")
               .annotate(batches=Count("id"), net_kg=Sum("net_weight_kg"), bins=Sum("bin_count"))
               .order_by("-season__start_date"))
    recent = Batch.objects.filter(block=block).select_related("packhouse")[:RECENT_ON_BLOCK]
    return {"seasons": list(seasons), "batches": recent}


register("block", Panel("batches/panels/block_deliveries.html", "batches.view_batch", block_deliveries, order=20))
