"""The only code that writes seasons, and the lookups every other app uses to place a date in one."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.cache import bump
from core.services import apply_changes, raise_if_invalid
from core.tenancy import company_day_start, company_today

from .models import Season

EDITABLE = ("name", "start_date", "end_date")
# Managers are warned this many days before the last season ends.
ENDING_SOON_DAYS = 14


@transaction.atomic
def create_season(*, code, name, start_date, end_date):
    season = Season(code=(code or "").strip().upper(), name=(name or "").strip(), start_date=start_date,
                    end_date=end_date)
    _save(season)
    return season


@transaction.atomic
def update_season(season, **changes):
    """Change the name or dates. Batches already stored keep their season: moving dates that hold batches is refused."""
    old_start, old_end = season.start_date, season.end_date
    if not apply_changes(season, changes, EDITABLE):
        return season
    if season.start_date > old_start or season.end_date < old_end:
        stranded = season.batches.filter(
            Q(intake_date__lt=company_day_start(season.start_date))
            | Q(intake_date__gte=company_day_start(season.end_date + timedelta(days=1)))
        )
        if stranded.exists():
            count = stranded.count()
            raise ValidationError({"start_date": (
                f"{count} {'batch was' if count == 1 else 'batches were'} received on days the new dates leave "
                "out; a season's dates can only grow once it holds batches."
            )})
    _save(season)
    return season


def _save(season):
    errors = {}
    if season._state.adding and season.code and Season.objects.filter(code=season.code).exists():
        errors["code"] = f"Season {season.code} already exists; choose another code."
    if season.start_date and season.end_date and season.end_date >= season.start_date:
        clash = _overlapping(season).first()
        if clash:
            errors["start_date"] = (
                f"These dates overlap season {clash.code} ({clash.start_date:%d %b %Y} to {clash.end_date:%d %b %Y})."
            )
    raise_if_invalid(season, errors, constraints=False)
    if season.end_date < season.start_date:
        raise ValidationError({"end_date": "A season ends on or after the day it starts."})
    try:
        with transaction.atomic():
            season.save()
    except IntegrityError:
        # Another manager saved an overlapping season or the same code a moment ago; the database refused it.
        raise ValidationError(
            {"start_date": "Another season with this code or these dates was saved a moment ago; reload and try again."}
        ) from None
    bump("seasons")


def _overlapping(season):
    return Season.objects.filter(start_date__lte=season.end_date, end_date__gte=season.start_date).exclude(pk=season.pk)


def season_for(day):
    """The season that holds `day` (a local date), or None."""
    return Season.objects.filter(start_date__lte=day, end_date__gte=day).first()


def current_season():
    """The season holding today, else the latest that has started, else None."""
    today = company_today()
    return season_for(today) or Season.objects.filter(start_date__lte=today).order_by("-start_date").first()


def ending_soon():
    """The last season, when it ends within ENDING_SOON_DAYS and none follows it; else None."""
    last = Season.objects.order_by("-end_date").first()
    if last is None:
        return None
    today = company_today()
    if today <= last.end_date <= today + timedelta(days=ENDING_SOON_DAYS) or last.end_date < today:
        return last
    return None


def season_by_code_or_id(value):
    """The season a request names by code (e.g. `2026`) or by id, or None.

    The code wins: codes are what people type, and a code of digits (`2026`) would otherwise be read as an id.
    """
    text = str(value or "").strip()
    if not text:
        return None
    season = Season.objects.filter(code=text.upper()).first()
    if season is None and text.isascii() and text.isdigit() and int(text) < 2**63:
        season = Season.objects.filter(pk=int(text)).first()
    return season


def season_moments(season):
    """The aware moments [start, end) of the season's local days: an intake_date range the index serves."""
    return company_day_start(season.start_date), company_day_start(season.end_date + timedelta(days=1))


def no_season_message(day):
    return (f"No season covers {day:%d %b %Y}. A manager must add a season that includes this date "
            "(Seasons, Add season) before fruit received on it can be recorded.")
