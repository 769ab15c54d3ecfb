"""Form helpers: a service's refusal beside the fields it names, forms that are submitted once, numbers as typed."""

import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.utils.text import capfirst

from .errors import Conflict
from .idempotency import KEY_MAX_LENGTH
from .numbers import format_plain, parse_number


class SubmittedOnce(forms.Form):
    """A form whose second press of Save returns what the first made (core/idempotency.py).

    The hidden key is made when the form is first shown and goes back with every post of it.
    """

    idempotency_key = forms.CharField(max_length=KEY_MAX_LENGTH, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


def add_service_error(form, exc):
    """Put a service's ValidationError or Conflict on `form`.

    An error about a field the form shows goes beside it; one about a field
    it does not show (a status, a read-only code) goes above the form,
    prefixed with that field's label.
    """
    if isinstance(exc, Conflict):
        form.add_error(None, exc.message)
    elif not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
    else:
        for name, errors in exc.error_dict.items():
            if name in form.fields:
                form.add_error(name, errors)
            elif name == NON_FIELD_ERRORS:
                form.add_error(None, errors)
            else:
                label = _label(form, name)
                form.add_error(None, [f"{label}: {message}" for message in ValidationError(errors).messages])


def _label(form, name):
    model = getattr(getattr(form, "_meta", None), "model", None)
    try:
        return capfirst(model._meta.get_field(name).verbose_name)
    except (AttributeError, FieldDoesNotExist):
        return capfirst(name.replace("_", " "))


class LocalDecimalField(forms.DecimalField):
    """A decimal typed as people type it: a decimal comma or point, thousands grouped by the company's locale.

    core.numbers.parse_number reads it ("5000,5" is 5000.5, never 50005) and refuses what is ambiguous with
    a message saying what to type. A text input, not type=number: browsers drop or rewrite a comma in those.
    """

    widget = forms.TextInput

    def __init__(self, *, locale=None, **kwargs):
        self.locale = locale  # None: the request company's, read when the value is
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.setdefault("inputmode", "decimal")
        attrs.setdefault("autocomplete", "off")
        return attrs

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal | int):
            return Decimal(value)
        return parse_number(str(value), self.locale)

    def validate(self, value):
        forms.Field.validate(self, value)

    def prepare_value(self, value):
        if isinstance(value, Decimal | int | float):
            return format_plain(value, places=None, locale_tag=self.locale)
        return value
