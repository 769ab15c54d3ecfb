"""The reconciliation page's and the statement page's forms: the API's parameters (filters.py), worded for people.

The names in the query string are the API's (`from`, `to`, `ordering`, ...), so a page's address and an API
call say the same thing; only the labels, the help, the widgets and two leniencies differ: the grower is
typed by code, and an ordering the page does not know is ignored rather than refused (it only comes from a
hand-edited address, and the page is still worth showing).
"""

from django import forms

from growers.fields import GrowerCodeField

from .filters import ReconciliationForm, StatementForm
from .report import ORDERING_CHOICES


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PagePeriodMixin:
    """From, To and Season with a date picker and help in words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"].widget = date_input()
        self.fields["from"].help_text = ""
        self.fields["to"].widget = date_input()
        self.fields["to"].help_text = "Included. Both empty: the current season."
        self.fields["season"].help_text = "Or a whole season instead of dates."


class ReconciliationPageForm(PagePeriodMixin, ReconciliationForm):
    grower = GrowerCodeField(required=False, help_text="Empty for every grower.")
    flagged = forms.BooleanField(required=False, label="Show only growers that need attention")
    ordering = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["packhouse"].help_text = "Only fruit received at this packhouse; a grower's payments are all shown."
        fields["packhouse"].empty_label = "Every packhouse"
        fields["fruit_type"].help_text = ""
        fields["threshold"].label = "Difference more than (amount)"
        fields["threshold"].help_text = "Flag a grower whose balance is further from zero than this."
        fields["threshold_percent"].label = "Difference more than (%)"
        fields["threshold_percent"].help_text = (
            "Flag a grower whose balance is more than this share of the fruit's value. "
            "Leave both empty for the company's settings."
        )

    def clean_flagged(self):
        # Ticked: only the flagged growers; not ticked: everyone (never "only the others", which the API offers).
        return True if self.cleaned_data.get("flagged") else None

    def clean_ordering(self):
        value = self.cleaned_data.get("ordering") or ""
        return value if value in ORDERING_CHOICES else ""


class StatementPageForm(PagePeriodMixin, StatementForm):
    pass
