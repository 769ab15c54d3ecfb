"""The dashboard's numbers: plain data, cached per company and invalidated by generation."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from batches.models import Batch, Status
from core.cache import cached_data
from core.tenancy import company_day_start, company_today
from seasons.models import Season
from seasons.services import ENDING_SOON_DAYS, ending_soon

from .models import VIEW_PERMISSION, DailyGrowerIntake
from .report import reconcile, resolve_period

CHART_DAYS = 30
TOP_GROWERS = 10
# Batches received without spray clearance, newest first: a short list to act on, with the season's count.
UNCLEARED_ROWS = 10
# Growers too: the top growers show their names.
# "intake_view": the chart reads daily_grower_intake, which a refresh changes some time after the intake's
# own bump ("batches"); without it the old numbers would be cached again for the TTL.
# "seasons": the period is the current season, and the season warning reads them.
DEPENDS_ON = ("batches", "payments", "prices", "growers", "intake_view", "seasons")
ZERO = Decimal("0")

# Each section needs what its API twin needs, so the page never shows a user what /api/ refuses them:
# intake and statuses are sums of batches (/api/intake/daily/, /api/batches/: batches.view_batch), the top
# growers name growers as well (/api/growers/), the flagged count is the report's (/api/reconciliation/).
SECTION_PERMISSIONS = {
    "today": ("batches.view_batch",),
    "chart": ("batches.view_batch",),
    "statuses": ("batches.view_batch",),
    "top_growers": ("batches.view_batch", "growers.view_grower"),
    "reconciliation": (VIEW_PERMISSION,),
    # Batches by code and grower, as /api/batches/ gives them.
    "uncleared": ("batches.view_batch",),
    # Only those who can add the missing season are told to.
    "season_warning": ("seasons.add_season",),
}


def visible_sections(user):
    """The names of the dashboard's sections this user may see (none for a user without a role)."""
    return {name for name, needed in SECTION_PERMISSIONS.items() if user.has_perms(needed)}


def dashboard_data():
    """Today's intake, 30 days of intake, batches by status, top growers, flagged growers, batches received
    without clearance this season, and whether the last season ends soon.

    The key holds the generations of what the numbers depend on, so a write
    makes the next read recompute; the cache key function adds the schema.
    """
    today = company_today()
    return cached_data("dashboard", DEPENDS_ON, [today], lambda: _build(today))


def _build(today):
    first_day = today - timedelta(days=CHART_DAYS - 1)
    by_day = {
        row["day"]: row
        for row in DailyGrowerIntake.objects.filter(day__gte=first_day, day__lte=today)
        .values("day").annotate(batches=Sum("batches"), bins=Sum("bins"), net_kg=Sum("net_kg"))
    }
    days = [
        {"day": first_day + timedelta(days=n),
         "net_kg": by_day.get(first_day + timedelta(days=n), {}).get("net_kg") or ZERO}
        for n in range(CHART_DAYS)
    ]
    todays = by_day.get(today, {})
    period = resolve_period()  # the current season; the 365 days up to today while there is none
    season_from, season_to = period.date_from, period.date_to
    top = list(
        DailyGrowerIntake.objects.filter(day__gte=season_from, day__lte=season_to)
        .values("grower__code", "grower__name", "grower_id")
        .annotate(net_kg=Sum("net_kg"), batches=Sum("batches")).order_by("-net_kg")[:TOP_GROWERS]
    )
    statuses = dict(Batch.objects.values_list("status").annotate(count=Count("id")).order_by())
    report = reconcile(season_from, season_to, limit=1)
    return {
        "today": {"batches": todays.get("batches") or 0, "bins": todays.get("bins") or 0,
                  "net_kg": todays.get("net_kg") or ZERO},
        "chart": _bars(days),
        "statuses": [(status.label, status.value, statuses.get(status.value, 0)) for status in Status],
        "top_growers": top,
        "season": (season_from, season_to),
        "season_code": period.season_code,
        "period_source": period.source,
        "flagged": report.totals.flagged_growers,
        "growers_reconciled": report.totals.growers,
        "uncleared": _uncleared(season_from, season_to),
        "season_warning": _season_warning(today),
    }


def _uncleared(first_day, last_day):
    """The newest batches of the period received without spray clearance, and how many there are.

    The flag is rare, so the partial index ix_batches_without_clearance (intake_date WHERE without_clearance)
    holds only these rows: the period is its Index Cond, read backwards for the newest.
    """
    flagged = Batch.objects.filter(without_clearance=True, intake_date__gte=company_day_start(first_day),
                                   intake_date__lt=company_day_start(last_day + timedelta(days=1)))
    rows = list(flagged.order_by("-intake_date").values(
        "id", "batch_code", "intake_date", "grower__code", "grower__name", "block__code", "block__farm__code",
    )[:UNCLEARED_ROWS])
    return {"rows": rows, "count": len(rows) if len(rows) < UNCLEARED_ROWS else flagged.count()}


def _season_warning(today):
    """The last season, when it ends within ENDING_SOON_DAYS or has ended with none after it; also when there is
    no season at all (intake is refused then); else None."""
    last = ending_soon()
    if last is None:
        return None if Season.objects.exists() else {"code": None, "ended": True}
    return {"code": last.code, "name": last.name, "end_date": last.end_date, "ended": last.end_date < today,
            "days_left": (last.end_date - today).days, "warn_days": ENDING_SOON_DAYS}


def _bars(days, height=160, width=600):
    """Bar geometry for the server-rendered SVG chart."""
    peak = max((d["net_kg"] for d in days), default=ZERO) or Decimal("1")
    step = width / len(days)
    bars = []
    for n, d in enumerate(days):
        bar_height = round(float(d["net_kg"] / peak) * height, 1)
        bars.append({**d, "x": round(n * step + 1, 1), "w": round(step - 2, 1), "h": bar_height,
                     "y": round(height - bar_height, 1)})
    return {"width": width, "height": height, "peak": peak, "bars": bars}
