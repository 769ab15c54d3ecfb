from django import forms

from packhouses.models import Packhouse

from .models import Load


class LoadForm(forms.ModelForm):
    class Meta:
        model = Load
        fields = ("packhouse", "vehicle_registration", "container_number", "seal_number", "destination", "consignee",
                  "planned_departure")
        widgets = {"planned_departure": forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                            format="%Y-%m-%dT%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["packhouse"].queryset = Packhouse.objects.filter(active=True)
        self.fields["planned_departure"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        self.fields["container_number"].max_length = 20  # the service takes spaces out and checks the digit
        self.fields["container_number"].widget.attrs["maxlength"] = 20

    def _post_clean(self):
        pass  # the service validates (container check digit, trimming) and reports per field


class ScanForm(forms.Form):
    """A scanner types the SSCC and presses Enter."""

    sscc = forms.CharField(label="Scan a pallet's SSCC", max_length=24,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric",
                                                         "autofocus": True, "data-scan": "sscc"}))


class TraceForm(forms.Form):
    q = forms.CharField(label="Batch, bin, SSCC, load, block (FARM/BLOCK) or grower code", max_length=64,
                        required=False, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}))
