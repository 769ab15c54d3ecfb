from django import forms

from core.forms import LocalDecimalField
from growers.models import FruitType
from pallets.models import Grade
from seasons.models import Season

from .models import ChargeBasis, ChargeKind


class PoolForm(forms.Form):
    season = forms.ModelChoiceField(queryset=Season.objects.all())
    code = forms.CharField(max_length=20, help_text="Capital letters, digits or dashes, e.g. 2026-APPLE-GALA.")
    name = forms.CharField(max_length=100)
    fruit_type = forms.ChoiceField(label="Fruit", choices=FruitType.choices)
    variety = forms.CharField(max_length=100, required=False,
                              help_text="Blank: every variety that has no pool of its own this season.")


class IncomeForm(forms.Form):
    grade = forms.ChoiceField(choices=Grade.choices)
    amount = LocalDecimalField(max_digits=14, decimal_places=2,
                               help_text="What the grade earned. A negative amount reverses a mistake: say why.")
    received_on = forms.DateField(label="Received on", widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=64, help_text="The market return's or remittance's reference.")
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Needed for a negative entry.")


class ChargeForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=ChargeKind.choices)
    basis = forms.ChoiceField(choices=ChargeBasis.choices)
    rate = LocalDecimalField(max_digits=12, decimal_places=4,
                             help_text="Money per kg, carton or pallet; a percentage (at most 100) of the gross.")
