"""The QC page's inspection form and the defect catalogue's form. The rules live in the services."""

from django import forms

from core.filters import IdChoiceField
from core.forms import LocalDecimalField, SubmittedOnce
from growers.fields import GrowerCodeField
from growers.models import FruitType, Grower

from .models import DefectType, QCResult
from .qc_report import default_period, period_errors
from .services import BRIX_RANGE, FIRMNESS_RANGE, MAX_SAMPLE


def _count_widget(**attrs):
    return forms.NumberInput(attrs={"inputmode": "numeric", "min": "0", "step": "1", **attrs})


class InspectionForm(SubmittedOnce):
    """A sample of one batch: the count of each catalogue defect for its fruit, and the verdict. Saved once."""

    sample_size = forms.IntegerField(
        label="Sample size (fruit)", min_value=1, max_value=MAX_SAMPLE,
        widget=_count_widget(min="1", **{"data-qc-sample": ""}), help_text="How many fruit were counted.",
    )
    brix = LocalDecimalField(label="Brix (°Brix)", required=False, max_digits=4, decimal_places=1,
                             min_value=BRIX_RANGE[0], max_value=BRIX_RANGE[1])
    firmness_kg = LocalDecimalField(label="Firmness (kg)", required=False, max_digits=4, decimal_places=1,
                                    min_value=FIRMNESS_RANGE[0], max_value=FIRMNESS_RANGE[1],
                                    help_text="Pressure test, kg.")
    result = forms.ChoiceField(choices=QCResult.choices, widget=forms.RadioSelect,
                               help_text="Reject rejects the batch, giving its top defects as the reason.")
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, defects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.defects = list(defects)
        for defect in self.defects:
            self.fields[self.field_name(defect)] = forms.IntegerField(
                label=defect.name, required=False, min_value=0, max_value=MAX_SAMPLE,
                widget=_count_widget(**{"data-qc-count": ""}),
                help_text=f"{defect.code}, {defect.get_severity_display().lower()}",
            )

    @staticmethod
    def field_name(defect):
        return f"defect_{defect.pk}"

    def defect_fields(self):
        """(bound field, defect) in catalogue order, for the template."""
        return [(self[self.field_name(defect)], defect) for defect in self.defects]

    def clean(self):
        data = super().clean()
        sample = data.get("sample_size")
        if sample:
            for defect in self.defects:
                name = self.field_name(defect)
                if (data.get(name) or 0) > sample:
                    self.add_error(name, f"More than the {sample} fruit sampled.")
        return data

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "sample_size": data["sample_size"], "result": data["result"], "brix": data.get("brix"),
            "firmness_kg": data.get("firmness_kg"), "notes": data.get("notes", ""),
            "defects": {defect: data.get(self.field_name(defect)) or 0 for defect in self.defects},
        }


class DefectTypeForm(forms.ModelForm):
    """Field validation only; batches.qc writes (and checks the rest)."""

    class Meta:
        model = DefectType
        fields = ["code", "name", "fruit_type", "severity", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True  # history rows name defects by code
        self.fields["fruit_type"].choices = [("", "Any fruit"), *self.fields["fruit_type"].choices[1:]]

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def validate_unique(self):
        """The service checks uniqueness when it writes; checking twice would only race."""



class QCReportForm(forms.Form):
    """The report's parameters, the same names on the page and in the API: from, to, fruit_type, grower."""

    fruit_type = forms.ChoiceField(choices=[("", "Any fruit"), *FruitType.choices], required=False,
                                   help_text="Only batches of this fruit.")
    grower = IdChoiceField(queryset=Grower.objects.all(), required=False, help_text="Only this grower (id).")

    def clean(self):
        data = super().clean()
        if "from" in self.errors or "to" in self.errors:
            return data
        data["from"], data["to"] = default_period(data.get("from"), data.get("to"))
        for name, messages in period_errors(data["from"], data["to"]).items():
            for message in messages:
                self.add_error(name, message)
        return data

    def report_kwargs(self):
        data = self.cleaned_data
        return {"date_from": data["from"], "date_to": data["to"], "fruit_type": data.get("fruit_type") or None,
                "grower": data.get("grower")}


# `from` and `to` are Python keywords: added to the fields rather than declared.
QCReportForm.base_fields = QCReportForm.declared_fields = {
    "from": forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="First local date (YYYY-MM-DD). Default: the current season's first day."),
    "to": forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}),
                          help_text="Last local date, inclusive. Default: the current season's last day. "
                                    "At most three years."),
    **QCReportForm.declared_fields,
}


class QCReportPageForm(QCReportForm):
    """On the page the grower is picked by code, with suggestions."""

    grower = GrowerCodeField(required=False, help_text="Leave empty for every grower.")
