"""The company whose schema the current connection uses, and its local time."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone


def company_timezone():
    return ZoneInfo(getattr(connection.tenant, "time_zone", None) or settings.DEFAULT_TIME_ZONE)


def company_today():
    """Today's date where the company is, not where the server is."""
    return timezone.now().astimezone(company_timezone()).date()


def company_date(moment):
    """The company's local date of an aware datetime."""
    return moment.astimezone(company_timezone()).date()


def company_day_start(day):
    """The aware moment the company's local `day` begins."""
    return datetime.combine(day, time.min, tzinfo=company_timezone())
