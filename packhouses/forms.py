from django import forms

from .models import Packhouse


class PackhouseForm(forms.ModelForm):
    """Field validation only; packhouses.services writes."""

    class Meta:
        model = Packhouse
        fields = ["code", "name", "region", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True  # part of every batch code made there

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def validate_unique(self):
        """The service checks uniqueness when it writes."""
