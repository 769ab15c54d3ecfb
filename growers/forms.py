from django import forms

from .models import Grower


class GrowerForm(forms.ModelForm):
    """Field validation only; growers.services writes (and checks the rest)."""

    class Meta:
        model = Grower
        fields = ["code", "name", "contact_name", "email", "phone", "region", "ggn", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True  # statements and integrators key on it

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def validate_unique(self):
        """The service checks uniqueness when it writes; checking twice would only race."""
