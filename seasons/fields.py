"""A season named in a request, by code or id: the `season` parameter of the lists and reports."""

from django import forms
from django.core.exceptions import ValidationError

from .models import Season
from .services import season_by_code_or_id

HELP_TEXT = "A season by code (e.g. 2026) or id: only its days."


def season_choices(empty_label="Any season"):
    return [("", empty_label), *((code, f"{code} · {name}") for code, name in
                                 Season.objects.order_by("-start_date").values_list("code", "name"))]


class SeasonField(forms.ChoiceField):
    """A select of the company's seasons on a page; the API takes the code or the id (the value is a Season).

    The choices are read when the form is rendered, not when it is declared, so a new season is offered at once.
    """

    def __init__(self, *, empty_label="Any season", **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", HELP_TEXT)
        super().__init__(choices=lambda: season_choices(empty_label), **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        season = season_by_code_or_id(value)
        if season is None:
            raise ValidationError("No season has the code or id '%(value)s'.", code="invalid_choice",
                                  params={"value": str(value)[:40]})
        return season

    def validate(self, value):
        # to_python already found the season; the choices are only what a page offers.
        forms.Field.validate(self, value)

    def prepare_value(self, value):
        return value.code if isinstance(value, Season) else value

