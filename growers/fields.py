from django import forms
from django.db.models import Q
from django.forms import BoundField
from django.urls import reverse_lazy

from .models import Grower

# Between a grower's code and name in a picked suggestion and in a redisplayed form: "G0019 · Paardekloof".
SEPARATOR = " · "
CANDIDATES_SHOWN = 5


def grower_label(grower):
    return f"{grower.code}{SEPARATOR}{grower.name}"


class GrowerCodeField(forms.CharField):
    """A grower picked by code or name: a text input with search suggestions, not a select of every grower.

    The suggestions come from /growers/search/ as <option>s for a <datalist>
    (htmx swaps them in as the clerk types). A picked suggestion reads
    "G0019 · Paardekloof", so the clerk sees whom they picked (three growers may
    share a name). Without JavaScript, typing the code, or a name only one
    grower has, still works.
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
        text = " ".join(super().clean(value).replace("\x00", "").split())
        if not text:
            return None
        # "G0042 · Oak Farm" from a suggestion (older pages sent "G0042 — Oak Farm"), or just "G0042".
        code = text.split(" ")[0].upper()
        grower = Grower.objects.filter(code=code).first()
        if grower is not None:
            return grower
        name = text.split(SEPARATOR.strip())[-1].strip()
        return self._by_name(name, text)

    @staticmethod
    def _by_name(name, text):
        for lookup in (Q(name__iexact=name), Q(name__icontains=name)):
            found = list(Grower.objects.filter(lookup).order_by("code")[:CANDIDATES_SHOWN + 1])
            if len(found) == 1:
                return found[0]
            if found:
                listed = ", ".join(grower_label(grower) for grower in found[:CANDIDATES_SHOWN])
                more = " and more" if len(found) > CANDIDATES_SHOWN else ""
                raise forms.ValidationError(
                    f"More than one grower matches “{name}”: {listed}{more}. Pick one from the list or type its code.",
                    code="ambiguous_grower",
                )
        raise forms.ValidationError(f"No grower has the code or name “{text}”.", code="unknown_grower")

    def prepare_value(self, value):
        return grower_label(value) if isinstance(value, Grower) else value

    def get_bound_field(self, form, field_name):
        return _PickedGrowerBoundField(form, self, field_name)


class _PickedGrowerBoundField(BoundField):
    """A form shown again (another field had an error) shows whom the typed code or name found."""

    def value(self):
        grower = getattr(self.form, "cleaned_data", {}).get(self.name)
        return grower_label(grower) if isinstance(grower, Grower) else super().value()
