from django import forms

from core.forms import SubmittedOnce
from growers.fields import GrowerCodeField

from .models import PaymentType


class PaymentForm(SubmittedOnce):
    """A payment to a grower. The hidden key makes a second press of Save return the first payment."""

    grower = GrowerCodeField()
    payment_type = forms.ChoiceField(label="Payment type", choices=PaymentType.choices)
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2,
        help_text="Advances, finals and deductions are positive; an adjustment may be negative.",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    reference = forms.CharField(max_length=64, help_text="Unique, e.g. the bank transfer's reference.")
    paid_date = forms.DateField(label="Paid date", widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class ReverseForm(forms.Form):
    reason = forms.CharField(max_length=2000, label="Reason for reversing",
                             help_text="Shown on both payments, e.g. \"paid to the wrong grower\".",
                             widget=forms.Textarea(attrs={"rows": 2}))
