from django import forms

from core.forms import LocalDecimalField

from .models import Company


class CompanySettingsForm(forms.ModelForm):
    """The settings a company's own manager may change; tenants.services writes them."""

    class Meta:
        model = Company
        fields = ["mrl_gate", "qc_required", "locale", "harvest_confirm_days", "payment_confirm_amount",
                  "payment_max_amount", "variance_threshold_amount", "variance_threshold_percent"]
        widgets = {"mrl_gate": forms.RadioSelect}
        field_classes = dict.fromkeys(("payment_confirm_amount", "payment_max_amount", "variance_threshold_amount",
                                       "variance_threshold_percent"), LocalDecimalField)
        # The model's names are the API's; these are what a manager reads.
        labels = {
            "variance_threshold_amount": "Difference more than (amount)",
            "variance_threshold_percent": "Difference more than (%)",
        }
        help_texts = {
            "variance_threshold_amount": "Reconciliation: a grower needs attention when the balance (value less "
                                         "paid) is further from zero than this amount, in the company's currency.",
            "variance_threshold_percent": "Or when the balance is more than this share of the fruit's value.",
        }

    THRESHOLDS = ("variance_threshold_amount", "variance_threshold_percent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.THRESHOLDS:
            self.fields[name].required = False

    def _keep_when_empty(self, name):
        # Left empty (or not posted, by a client that only changes the intake rules): the setting stays.
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value is None else value

    def clean_variance_threshold_amount(self):
        return self._keep_when_empty("variance_threshold_amount")

    def clean_variance_threshold_percent(self):
        return self._keep_when_empty("variance_threshold_percent")

    def validate_unique(self):
        """Nothing unique here; checking would query the companies table for nothing."""
