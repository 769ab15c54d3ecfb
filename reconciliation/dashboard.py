"""The dashboard's numbers: plain data, cached per company and invalidated by generation."""

import math
import statistics
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from batches.models import Batch, Status
from core.cache import cached_data
from core.numbers import current_locale
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
# "packhouses": today's intake by packhouse names them.
DEPENDS_ON = ("batches", "payments", "prices", "growers", "intake_view", "seasons", "packhouses")
ZERO = Decimal("0")
# The batches still in the packhouse, and how long ago they arrived, in whole local days: (label, first, last).
OPEN_STATUSES = (Status.RECEIVED, Status.GRADING, Status.PACKING, Status.PACKED)
AGE_BUCKETS = (("0–1 days", 0, 1), ("2–3 days", 2, 3), ("4–7 days", 4, 7), ("Over 7 days", 8, None))
# The chart's scale: a day above OUTLIER_FACTOR × the median day (of days with intake) is off the scale, drawn
# capped and marked, so that one wild record (99,999,999 kg typed for 9,999.9) cannot flatten the other bars.
OUTLIER_FACTOR = 4
AXIS_TICKS = 4

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


def sections_html(user, sections):
    """The sections' HTML for this user's role, cached like the numbers and beside them.

    Thirty bars, their links and a hundred numbers in the company's locale cost a worker several times what
    reading the cached numbers does (docs/PERFORMANCE.md, issue #19). The HTML depends on nothing but the
    numbers, the sections, whether growers are named, and the company's locale and time zone, so those make
    its key; the CSRF token and the user's name stay outside it, in dashboard.html.
    """
    today = company_today()
    names_growers = user.has_perm("growers.view_grower")
    parts = [today, sorted(sections), names_growers, current_locale(), timezone.get_current_timezone_name()]
    html = cached_data("dashboard_html", DEPENDS_ON, parts, lambda: render_to_string(
        "reconciliation/_dashboard_sections.html",
        {"data": dashboard_data(), "sections": sections, "names_growers": names_growers},
    ))
    return mark_safe(html)  # noqa: S308 - our own template's output, escaped when it was rendered


def _build(today):
    first_day = today - timedelta(days=CHART_DAYS - 1)
    # One query for the chart, today's totals and today's split by packhouse: a few rows per day.
    by_day, today_by_packhouse = {}, []
    rows = (DailyGrowerIntake.objects.filter(day__gte=first_day, day__lte=today)
            .values("day", "packhouse_id", "packhouse__code", "packhouse__name")
            .annotate(batches=Sum("batches"), bins=Sum("bins"), net_kg=Sum("net_kg"))
            .order_by("day", "packhouse__code"))
    for row in rows:
        total = by_day.setdefault(row["day"], {"batches": 0, "bins": 0, "net_kg": ZERO})
        for name in total:
            total[name] += row[name] or 0
        if row["day"] == today:
            today_by_packhouse.append({"id": row["packhouse_id"], "code": row["packhouse__code"],
                                       "name": row["packhouse__name"], "batches": row["batches"],
                                       "net_kg": row["net_kg"] or ZERO})
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
    statuses, ages = _statuses_and_ages(today)
    report = reconcile(season_from, season_to, limit=1)
    return {
        "today": {"batches": todays.get("batches") or 0, "bins": todays.get("bins") or 0,
                  "net_kg": todays.get("net_kg") or ZERO},
        "today_by_packhouse": today_by_packhouse,
        # The batch list's query strings for the numbers above: each number links to what it sums.
        "today_query": day_range_query(today, today),
        "season_query": day_range_query(season_from, season_to),
        "open_by_age": ages,
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


def _statuses_and_ages(today):
    """Batches by status, and the open ones by age, in one pass over batches grouped by status."""
    starts = {days: company_day_start(today - timedelta(days=days)) for days in (1, 3, 7)}
    buckets = {
        "age_0_1": Q(intake_date__gte=starts[1]),
        "age_2_3": Q(intake_date__gte=starts[3], intake_date__lt=starts[1]),
        "age_4_7": Q(intake_date__gte=starts[7], intake_date__lt=starts[3]),
        "age_over_7": Q(intake_date__lt=starts[7]),
    }
    rows = Batch.objects.values("status").annotate(
        count=Count("id"), **{name: Count("id", filter=condition) for name, condition in buckets.items()},
    ).order_by()
    statuses, open_counts = {}, dict.fromkeys(buckets, 0)
    for row in rows:
        statuses[row["status"]] = row["count"]
        if row["status"] in OPEN_STATUSES:
            for name in buckets:
                open_counts[name] += row[name]
    ages = []
    for (label, first, last), name in zip(AGE_BUCKETS, buckets, strict=True):
        # The list's intake-date range for the bucket: whole local days, the newest open-ended (a clock
        # a little ahead still counts as today).
        after = today - timedelta(days=last) if last is not None else None
        before = today - timedelta(days=first) if first else None
        ages.append({"label": label, "count": open_counts[name],
                     "query": day_range_query(after, before, status=[status.value for status in OPEN_STATUSES])})
    return statuses, ages


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


def day_range_query(first, last=None, **more):
    """The batch list's query string for intake on local days first..last (open-ended where None)."""
    params = {**more}
    if first is not None:
        params["intake_date_after"] = first.isoformat()
    if last is not None:
        params["intake_date_before"] = last.isoformat()
    return urlencode(params, doseq=True)


def robust_cap(values):
    """The most a day may hold and still be drawn to scale: OUTLIER_FACTOR × the median of the days with
    intake (the lower median, so that of two days one wild one cannot set it); None when no day has any."""
    positive = sorted(value for value in values if value > 0)
    if not positive:
        return None
    return statistics.median_low(positive) * OUTLIER_FACTOR


def nice_step(top, ticks=AXIS_TICKS):
    """A round step (1, 2, 2.5 or 5 × a power of ten) that divides 0..top into about `ticks` intervals."""
    raw = float(top) / ticks
    if raw <= 0:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * power:
            step = multiple * power
            return int(step) if step >= 1 else step
    return 10 * power  # pragma: no cover - the loop always returns


def _bars(days, height=160, width=600, left=64, top=8):
    """Geometry of the server-rendered SVG chart: bars, a value axis and day labels.

    Days above robust_cap are outliers: drawn to the top of the axis, marked, and listed with their real
    value, while the axis fits the other days.
    """
    values = [d["net_kg"] for d in days]
    cap = robust_cap(values)
    in_scale = [value for value in values if cap is None or value <= cap]
    peak = max(in_scale, default=ZERO) or Decimal("1")
    step = nice_step(peak)
    axis_top = Decimal(str(step)) * math.ceil(peak / Decimal(str(step)))
    plot_width = width - left
    slot = plot_width / len(days)
    bars, outliers = [], []
    for n, d in enumerate(days):
        outlier = cap is not None and d["net_kg"] > cap
        shown = axis_top if outlier else d["net_kg"]
        bar_height = round(float(shown / axis_top) * height, 1)
        bar = {**d, "x": round(left + n * slot + 1, 1), "w": round(slot - 2, 1), "h": bar_height,
               "y": round(top + height - bar_height, 1), "outlier": outlier,
               # Day labels a week apart, counted back from today so the last two never collide.
               "label": (len(days) - 1 - n) % 7 == 0, "query": day_range_query(d["day"], d["day"])}
        bars.append(bar)
        if outlier:
            outliers.append(bar)
    ticks = []
    value = Decimal("0")
    while value <= axis_top:
        ticks.append({"value": value, "y": round(top + height - float(value / axis_top) * height, 1)})
        value += Decimal(str(step))
    return {"width": width, "height": height, "left": left, "top": top, "bottom": top + height,
            "peak": max(values, default=ZERO), "axis_top": axis_top, "ticks": ticks, "bars": bars,
            "outliers": outliers, "cap": cap}
