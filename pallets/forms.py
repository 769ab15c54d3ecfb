from decimal import Decimal

from django import forms

from batches.models import Batch, Status
from core.forms import LocalDecimalField, SubmittedOnce
from packhouses.models import Packhouse

from .models import Grade, Room


class BuildForm(SubmittedOnce):
    packhouse = forms.ModelChoiceField(queryset=Packhouse.objects.filter(active=True))


class LineForm(SubmittedOnce):
    batch = forms.ModelChoiceField(queryset=Batch.objects.filter(status=Status.PACKED), label="Packed batch")
    grade = forms.ChoiceField(choices=Grade.choices)
    cartons = forms.IntegerField(min_value=1)
    kg = LocalDecimalField(min_value=Decimal("0.01"), max_digits=10, decimal_places=2, label="kg")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, packhouse=None, **kwargs):
        super().__init__(*args, **kwargs)
        if packhouse is not None:
            self.fields["batch"].queryset = Batch.objects.filter(status=Status.PACKED, packhouse=packhouse)


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MoveForm(forms.Form):
    room = forms.ModelChoiceField(queryset=Room.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, packhouse=None, **kwargs):
        super().__init__(*args, **kwargs)
        rooms = Room.objects.filter(active=True).select_related("packhouse")
        self.fields["room"].queryset = rooms.filter(packhouse=packhouse) if packhouse else rooms


class ScanMoveForm(forms.Form):
    """A scanner types the SSCC and Enter, then the room code and Enter."""

    sscc = forms.CharField(label="Pallet SSCC", max_length=24,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric",
                                                         "autofocus": True}))
    room = forms.CharField(label="Room code", max_length=10, widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def clean_sscc(self):
        value = self.cleaned_data["sscc"].strip()
        if len(value) == 20 and value.startswith("00"):
            value = value[2:]  # the scanner sent the AI too
        if len(value) != 18 or not value.isdigit():
            raise forms.ValidationError("An SSCC is 18 digits.")
        return value

    def clean_room(self):
        return self.cleaned_data["room"].strip().upper()


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ("packhouse", "code", "name", "capacity", "active")
