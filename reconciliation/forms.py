from django import forms

from batches.models import FruitType
from growers.fields import GrowerCodeField
from packhouses.models import Packhouse

from .report import default_period, period_errors

DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


class PeriodForm(forms.Form):
    """A period in the company's local dates; an empty end means the default (the last 365 days)."""

    date_from = forms.DateField(label="From", required=False, **DATE)
    date_to = forms.DateField(label="To", required=False, **DATE)

    def clean(self):
        data = super().clean()
        if not self.errors:
            data["date_from"], data["date_to"] = default_period(data.get("date_from"), data.get("date_to"))
            for field, messages in period_errors(data["date_from"], data["date_to"]).items():
                self.add_error("date_to" if field == "to" else field, messages)
        return data


class ReconciliationForm(PeriodForm):
    grower = GrowerCodeField(required=False, help_text="Leave empty for every grower.")
    packhouse = forms.ModelChoiceField(queryset=Packhouse.objects.all(), required=False, empty_label="All")
    fruit_type = forms.ChoiceField(label="Fruit type", required=False, choices=[("", "All"), *FruitType.choices])
    threshold = forms.DecimalField(
        label="Flag above (amount)", required=False, min_value=0, max_digits=14, decimal_places=2,
        help_text="Flag a grower whose balance is further from zero than this. Empty: the company's default.",
    )
    threshold_percent = forms.DecimalField(
        label="Flag above (%)", required=False, min_value=0, max_digits=7, decimal_places=2,
        help_text="Flag a grower whose variance is larger than this percentage.",
    )
    flagged = forms.BooleanField(label="Flagged growers only", required=False)
