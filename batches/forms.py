from django import forms

from core.forms import SubmittedOnce
from core.tenancy import company_today
from growers.fields import GrowerCodeField
from growers.models import FruitType
from packhouses.models import Packhouse


def kg(label, **kwargs):
    return forms.DecimalField(
        label=label, max_digits=10, decimal_places=2, min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "min": "0"}), **kwargs,
    )


class IntakeForm(SubmittedOnce):
    """A delivery at the weighbridge. The rules live in batches.services.record_intake.

    Submitted once: a second press of Save (or a reload of the post) shows the first batch.
    """

    grower = GrowerCodeField()
    packhouse = forms.ModelChoiceField(queryset=Packhouse.objects.filter(active=True), empty_label=None)
    fruit_type = forms.ChoiceField(label="Fruit type", choices=FruitType.choices)
    variety = forms.CharField(max_length=100)
    harvest_date = forms.DateField(label="Harvest date", widget=forms.DateInput(attrs={"type": "date"}))
    bin_count = forms.IntegerField(label="Bins", min_value=1, max_value=100_000,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    gross_weight_kg = kg("Gross weight (kg)")
    tare_weight_kg = kg("Tare weight (kg)")
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["harvest_date"].widget.attrs["max"] = company_today().isoformat()
        self.fields["harvest_date"].initial = company_today()


class TransitionForm(forms.Form):
    to_status = forms.CharField(max_length=20)
    reason = forms.CharField(required=False, max_length=2000, label="Reason for rejecting",
                             widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class PackoutForm(forms.Form):
    class1_kg = kg("Class 1 (kg)")
    class2_kg = kg("Class 2 (kg)")
    class3_kg = kg("Class 3 (kg)")
    waste_kg = kg("Waste (kg)")
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
