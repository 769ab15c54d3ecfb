"""Bounds on the dates and periods a request may ask for (docs/SECURITY.md, "Runaway queries").

A grower statement for the year 9000 ran for minutes: the opening balance is everything before the
period, and no statement had a timeout. Every date a request gives is within EARLIEST..LATEST, and
every period it asks for spans at most MAX_PERIOD_DAYS; anything else is a 400 (a form error on a page).
"""

from datetime import date, datetime

# Far wider than any season a packhouse keeps, far narrower than what PostgreSQL accepts.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
# Three years, a leap day included.
MAX_PERIOD_DAYS = 3 * 365 + 1


def as_date(value):
    return value.date() if isinstance(value, datetime) else value


def date_error(value):
    """Why this date cannot be asked for, or None."""
    day = as_date(value)
    if day is not None and not EARLIEST <= day <= LATEST:
        return f"Give a date from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}."
    return None


def span_error(first, last, max_days=MAX_PERIOD_DAYS):
    """Why the period first..last (both inclusive, either may be None) is too long, or None."""
    first, last = as_date(first), as_date(last)
    if first is None or last is None or last < first:
        return None
    days = (last - first).days + 1
    if days > max_days:
        return f"The period is {days} days long; at most {max_days} days are allowed."
    return None
