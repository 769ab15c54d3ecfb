from django import forms
from django.urls import reverse_lazy

from .models import Grower


class GrowerCodeField(forms.CharField):
    """A grower picked by code: a text input with search suggestions, not a select of every grower.

    The suggestions come from /growers/search/ as <option>s for a <datalist>
    (htmx swaps them in as the clerk types); without JavaScript, typing the
    code still works.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Grower")
        kwargs.setdefault("max_length", 200)  # a picked suggestion carries the name too
        kwargs.setdefault("help_text", "Type the grower's code or name and pick from the list.")
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({
            "list": "grower-options", "autocomplete": "off", "spellcheck": "false",
            "hx-get": reverse_lazy("growers:search"), "hx-trigger": "input changed delay:200ms",
            "hx-target": "#grower-options", "hx-swap": "innerHTML",
        })
        return attrs

    def clean(self, value):
        code = super().clean(value).strip().upper()
        if not code:
            return None
        # "G0042 — Oak Farm" from a suggestion, or just "G0042".
        code = code.split(" ")[0]
        try:
            return Grower.objects.get(code=code)
        except Grower.DoesNotExist:
            raise forms.ValidationError(f"No grower has the code {code}.", code="unknown_grower") from None

    def prepare_value(self, value):
        return value.code if isinstance(value, Grower) else value
