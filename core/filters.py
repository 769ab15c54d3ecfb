"""Filter pieces shared by the domain apps' FilterSets (one FilterSet serves the HTML list and the API)."""

from datetime import date

import django_filters
from django import forms as django_forms
from django.core.exceptions import ValidationError

from . import periods


class StableOrderingFilter(django_filters.OrderingFilter):
    """`ordering=` with a whitelist; ties are broken by id so pages never overlap or skip rows."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            last = value[-1]
            qs = qs.order_by(*qs.query.order_by, "-pk" if last.startswith("-") else "pk")
        return qs


class StrictNullBooleanSelect(django_forms.NullBooleanSelect):
    """Django's yes/no/unknown select, except that a value it does not know reaches the field instead of
    silently becoming "unknown" (no filter)."""

    def value_from_datadict(self, data, files, name):
        known = super().value_from_datadict(data, files, name)
        raw = data.get(name)
        if known is None and raw not in (None, "", "unknown"):
            return raw
        return known


class StrictNullBooleanField(django_forms.NullBooleanField):
    widget = StrictNullBooleanSelect

    def to_python(self, value):
        if isinstance(value, str) and value.strip().lower() not in ("", "unknown", "true", "false", "1", "0"):
            raise ValidationError("Use true or false.", code="invalid")
        if isinstance(value, str) and value.strip() in ("1", "0"):
            return value.strip() == "1"
        return super().to_python(value)


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`?active=true|false` (or empty for both); `?active=yes-please` is a 400 in the API and a form error on
    a page, not a filter quietly ignored. Found by schemathesis: the schema says boolean."""

    field_class = StrictNullBooleanField


class BoundedPeriodsForm(django_forms.Form):
    """The form of a FilterSet whose dates are bounded (core/periods.py): `Meta.form = BoundedPeriodsForm`.

    Every date is within the sane range, and a period, given by two filters `<name>_after` and
    `<name>_before` or by one range filter, spans at most MAX_PERIOD_DAYS.
    """

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            ends = (value.start, value.stop) if isinstance(value, slice) else (value,)
            if not all(isinstance(end, (date, type(None))) for end in ends):
                continue
            message = next(filter(None, map(periods.date_error, ends)), None)
            if message is None and isinstance(value, slice):
                message = periods.span_error(value.start, value.stop)
            if message is None and name.endswith("_after") and isinstance(value, date):
                message = periods.span_error(value, data.get(name.removesuffix("_after") + "_before"))
            if message is not None:
                self.add_error(name, message)
        return data
