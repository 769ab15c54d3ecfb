"""Form helpers: a service's refusal beside the fields it names, and forms that are submitted once."""

import uuid

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.utils.text import capfirst

from .errors import Conflict
from .idempotency import KEY_MAX_LENGTH


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
