"""Seasons placed relative to the company's today, for tests of warnings and defaults (no clock is frozen)."""

import datetime as dt

from core.tenancy import company_today
from seasons import services
from seasons.models import Season


def only_season_ending_in(days):
    """Replace the fixtures' calendar-year seasons by one that holds today and ends `days` from today."""
    today = company_today()
    Season.objects.all().delete()
    return services.create_season(code="NOW", name="This season", start_date=today - dt.timedelta(days=100),
                                  end_date=today + dt.timedelta(days=days))


def no_seasons():
    Season.objects.all().delete()


def this_years_season():
    return services.season_for(company_today())
