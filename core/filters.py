"""Filter pieces shared by the domain apps' FilterSets (one FilterSet serves the HTML list and the API)."""

from datetime import date

import django_filters
from django import forms as django_forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.forms.utils import ErrorDict
from django.utils.text import capfirst
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS, remote_queryset
from drf_spectacular.utils import extend_schema_field

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
    """Django's yes/no/unknown select, except that only true and false (any case) mean something: Django's
    also reads "2" as true and "3" as false, so `?active=2` filtered instead of being refused. Any other value
    reaches the field, which refuses it."""

    def value_from_datadict(self, data, files, name):
        raw = data.get(name)
        if raw is None:
            return None
        return {"true": True, "false": False, "": None, "unknown": None}.get(str(raw).strip().lower(), raw)


class StrictNullBooleanField(django_forms.NullBooleanField):
    widget = StrictNullBooleanSelect

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        raise ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`?active=true|false` (or empty for both); `?active=yes-please`, `?active=2` or `?active=1` is a 400 in
    the API and a form error on a page, not a filter quietly ignored or guessed at. Found by schemathesis: the
    schema says boolean, whose only values on the wire are true and false."""

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


# The ids a filter takes: what a bigint primary key can hold. Raw SQL (the reconciliation report) would fail
# on a larger one, so it is a 400 like any malformed id.
MAX_ID = 2**63 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class IdChoiceField(django_forms.ModelChoiceField):
    """A choice of object by id, where an id that names no object still means that object.

    `?grower=12345` filters by grower 12345 and finds nothing, as `?grower_code=NOPE` does, instead of being
    a 400 "Select a valid choice": which ids exist is nothing a schema can state, so a client could not tell
    a valid request from an invalid one. An id that is no whole number in 1..MAX_ID stays a 400.
    """

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as error:
            try:
                pk = int(str(value).strip())
            except ValueError:
                pk = None
            if pk is None or not 1 <= pk <= MAX_ID:
                raise error from None
            return self.queryset.model(pk=pk)


@extend_schema_field(ID_SCHEMA)
class IdChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = IdChoiceField


class LabelledErrors(ErrorDict):
    """A form's errors that, shown on a page, name each field by its label ("Received from: Enter a valid
    date.") rather than by its parameter name ("intake_date_after"). Still a dict of name -> errors, so the API's
    400 body, which names the parameters, is unchanged."""

    def __init__(self, form):
        super().__init__(form.errors, renderer=form.renderer)
        self.form = form

    def get_context(self):
        lines = []
        for name, errors in self.items():
            field = self.form.fields.get(name)
            label = (field.label if field is not None and field.label else name.replace("_", " ")) or ""
            prefix = "" if name == NON_FIELD_ERRORS else f"{capfirst(label)}: "
            lines.append((prefix, " ".join(str(message) for message in errors)))
        return {"errors": lines, "error_class": "errorlist"}


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose foreign keys are IdChoiceFilters, and whose errors name the fields in words.

    A parameter that takes one value and is given twice (?q=a&q=b) is refused, naming it, instead of one of the
    two being used silently: the schema says one. Filters of several values (check boxes) take repeats.
    """

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdChoiceFilter, "extra": lambda f: {"queryset": remote_queryset(f)}},
    }

    def is_valid(self):
        valid = super().is_valid()
        repeated = self.repeated_parameters()
        for name, parameter in repeated:
            self.form.add_error(name if name in self.form.fields else None, f"Give {parameter} once.")
        return valid and not repeated

    def repeated_parameters(self):
        """(filter name, query parameter) for each single-valued parameter the query gives more than once."""
        getlist = getattr(self.data, "getlist", None)
        if getlist is None:
            return []
        repeated = []
        for name, filter_ in self.filters.items():
            if isinstance(filter_, django_filters.MultipleChoiceFilter):
                continue
            # A range filter's widget reads two parameters: intake_date_after and intake_date_before.
            suffixes = getattr(self.form.fields[name].widget, "suffixes", None) if name in self.form.fields else None
            parameters = [f"{name}_{suffix}" for suffix in suffixes] if suffixes else [name]
            repeated += [(name, parameter) for parameter in parameters if len(getlist(parameter)) > 1]
        return repeated

    @property
    def errors(self):
        return LabelledErrors(self.form)
