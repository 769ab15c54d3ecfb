from django import forms

from core.forms import LocalDecimalField

from .models import Company


class CompanySettingsForm(forms.ModelForm):
    """The settings a company's own manager may change; tenants.services writes them."""

    class Meta:
        model = Company
        fields = ["mrl_gate", "qc_required", "locale", "harvest_confirm_days", "payment_confirm_amount",
                  "payment_max_amount"]
        widgets = {"mrl_gate": forms.RadioSelect}
        field_classes = {"payment_confirm_amount": LocalDecimalField, "payment_max_amount": LocalDecimalField}

    def validate_unique(self):
        """Nothing unique here; checking would query the companies table for nothing."""
