from django import forms

from .models import Season


def _date_input():
    # ISO in the value, whatever the locale: that is what <input type="date"> reads.
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class SeasonForm(forms.ModelForm):
    """Field validation only; seasons.services writes and checks overlaps and batches outside new dates."""

    class Meta:
        model = Season
        fields = ["code", "name", "start_date", "end_date"]
        labels = {"start_date": "First day", "end_date": "Last day"}
        help_texts = {"code": "e.g. 2026 or 2026-CITRUS. Fixed once saved.",
                      "end_date": "Inclusive. Seasons may not overlap."}
        widgets = {"start_date": _date_input(), "end_date": _date_input()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True  # reports, filters and integrators name the season by it

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def _get_validation_exclusions(self):
        # The model's constraints on the dates are the service's to check, with a message naming the season
        # they overlap; here Django would query the exclusion constraint, which fails on dates the wrong way round.
        return {*super()._get_validation_exclusions(), "start_date", "end_date"}

    def validate_unique(self):
        """The service checks the code and the dates when it writes (the database's exclusion constraint is the
        backstop); checking here too would only race."""
