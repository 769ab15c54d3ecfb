"""The pallets panel on the batch page (core/panels.py)."""

from django.db.models import Sum

from core.panels import Panel, register

from .models import PalletLine


def batch_pallets(batch):
    lines = (PalletLine.objects.filter(batch=batch).select_related("pallet", "pallet__room")
             .order_by("pallet__built_at", "id"))
    on = {row["grade"]: row["kg"] for row in lines.values("grade").annotate(kg=Sum("kg")).order_by()}
    return {"pallet_lines": lines, "on_pallets": on}


register("batch", Panel("pallets/panels/batch_pallets.html", "pallets.view_pallet", batch_pallets))
