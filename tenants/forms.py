from django import forms

from .models import Company


class CompanySettingsForm(forms.ModelForm):
    """The settings a company's own manager may change; tenants.services writes them."""

    class Meta:
        model = Company
        fields = ["mrl_gate", "qc_required"]
        widgets = {"mrl_gate": forms.RadioSelect}

    def validate_unique(self):
        """Nothing unique here; checking would query the companies table for nothing."""
