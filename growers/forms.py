from django import forms
from django.core.exceptions import ValidationError

from seasons.models import Season
from seasons.services import current_season

from .models import Block, Farm, Grower, SprayClearance


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


class _CodedForm(forms.ModelForm):
    """A form whose code is fixed once saved: batches, certificates and integrators name the object by it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def validate_unique(self):
        """The service checks uniqueness when it writes; checking twice would only race."""

    def _post_clean(self):
        # ModelForm's, without the model's constraints: the service checks them as it writes and names the
        # field (a conditional unique constraint, like the PUC's, would otherwise be an error above the form).
        try:
            self.instance = forms.models.construct_instance(self, self.instance, self._meta.fields)
            self.instance.full_clean(exclude=self._get_validation_exclusions(), validate_unique=False,
                                     validate_constraints=False)
        except ValidationError as exc:
            self._update_errors(exc)


class FarmForm(_CodedForm):
    class Meta:
        model = Farm
        fields = ["code", "name", "puc", "ggn", "region", "active"]

    def clean_puc(self):
        return self.cleaned_data["puc"].strip().upper()

    def clean_ggn(self):
        return self.cleaned_data["ggn"].strip()


class BlockForm(_CodedForm):
    class Meta:
        model = Block
        fields = ["code", "fruit_type", "variety", "hectares", "planted_year", "active"]


class ClearanceForm(forms.ModelForm):
    """A spray (MRL) clearance for the block the page is about."""

    class Meta:
        model = SprayClearance
        fields = ["season", "cleared_on", "lab_reference", "valid_until"]
        widgets = {"cleared_on": forms.DateInput(attrs={"type": "date"}),
                   "valid_until": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["season"].queryset = Season.objects.order_by("-start_date")
        self.fields["season"].empty_label = None
        current = current_season()
        if current is not None and not self.is_bound:
            self.initial.setdefault("season", current.pk)
