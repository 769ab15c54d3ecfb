from django import forms
from django.core import signing

from core.forms import LocalDecimalField, SubmittedOnce
from growers.fields import GrowerCodeField
from pools.models import Pool, PoolStatus

from .models import NegativeDecision, PaymentType


class PaymentForm(SubmittedOnce):
    """A payment to a grower. The hidden key makes a second press of Save return the first payment."""

    grower = GrowerCodeField()
    payment_type = forms.ChoiceField(label="Payment type", choices=PaymentType.choices)
    amount = LocalDecimalField(
        max_digits=14, decimal_places=2,
        help_text="Advances, finals and deductions are positive; an adjustment may be negative.",
    )
    reference = forms.CharField(max_length=64, help_text="Unique, e.g. the bank transfer's reference.")
    paid_date = forms.DateField(label="Paid date", widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    pool = forms.ModelChoiceField(
        queryset=Pool.objects.filter(status=PoolStatus.OPEN).order_by("code"), required=False,
        help_text="An advance paid against an open pool is counted as already paid when the pool is settled.",
    )

    # Set by the confirmation step (payments/confirm.html): a signature of grower, type and amount, so that a
    # confirmation never carries over to figures changed after it was given.
    confirmation = forms.CharField(required=False, widget=forms.HiddenInput)

    CONFIRMATION_SALT = "payments.confirmation"

    def _confirmed_figures(self):
        data = self.cleaned_data
        return [data["grower"].pk, data["payment_type"], str(data["amount"])]

    def confirmation_token(self):
        return signing.dumps(self._confirmed_figures(), salt=self.CONFIRMATION_SALT)

    def is_confirmed(self):
        """Whether the post carries the confirmation of exactly these grower, type and amount."""
        try:
            figures = signing.loads(self.cleaned_data.get("confirmation") or "", salt=self.CONFIRMATION_SALT,
                                    max_age=3600)
        except signing.BadSignature:
            return False
        return figures == self._confirmed_figures()

class ReverseForm(forms.Form):
    reason = forms.CharField(max_length=2000, label="Reason for reversing",
                             help_text="Shown on both payments, e.g. \"paid to the wrong grower\".",
                             widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=NegativeDecision.choices, required=False, widget=forms.RadioSelect,
                                 help_text="Carry forward: posted as a negative adjustment against the pool, so "
                                           "its balance is 0.00 and the grower owes it elsewhere. Hold: not paid "
                                           "in this run; the pool keeps the negative balance.")


class CancelRunForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
