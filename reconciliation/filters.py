"""The parameters of the reconciliation report and statements, and the daily intake FilterSet.

The report's parameters are not filters over a queryset: they go into one
SQL statement. So they are a plain Django form, not a FilterSet. The same
form serves the HTML page (fields, errors beside them) and the API (its
errors become the 400's `errors`), with the same names in the query
string: `from`, `to`, `grower`, `packhouse`, `fruit_type`, `threshold`,
`threshold_percent`, `flagged`, `ordering`.

The daily intake list reads a (materialized) view through a model, so it is
an ordinary FilterSet like every other list.
"""

import django_filters
from django import forms

from core.filters import BoundedPeriodsForm, FilterSet, IdChoiceField
from growers.models import FruitType, Grower
from packhouses.models import Packhouse

from .models import DailyGrowerIntake
from .report import MAX_PERIOD_DAYS, ORDERING_CHOICES, default_period, period_errors

FLAGGED_CHOICES = [("", "All growers"), ("true", "Flagged only"), ("false", "Not flagged")]


def _period_fields():
    # `from` and `to` are Python keywords, so they are added to base_fields rather than declared.
    return {
        "from": forms.DateField(
            required=False, label="From",
            help_text="First local date of the period (YYYY-MM-DD). Default: 364 days before `to`.",
        ),
        "to": forms.DateField(
            required=False, label="To",
            help_text=f"Last local date of the period, inclusive (YYYY-MM-DD). Default: today. "
                      f"At most {MAX_PERIOD_DAYS} days from `from`.",
        ),
    }


class PeriodForm(forms.Form):
    """`from` and `to`, local dates, both inclusive. Missing ends get the defaults of report.default_period."""

    def clean(self):
        data = super().clean()
        if "from" in self.errors or "to" in self.errors:
            return data
        data["from"], data["to"] = default_period(data.get("from"), data.get("to"))
        for name, messages in period_errors(data["from"], data["to"]).items():
            for message in messages:
                self.add_error(name, message)
        return data

    def period(self):
        return self.cleaned_data["from"], self.cleaned_data["to"]


# Set on declared_fields too, so subclasses (whose metaclass reads declared_fields) inherit them.
PeriodForm.declared_fields = PeriodForm.base_fields = {**_period_fields(), **PeriodForm.declared_fields}


class StatementForm(PeriodForm):
    """The period of a grower statement (the grower comes from the URL)."""


class ReconciliationForm(PeriodForm):
    grower = IdChoiceField(
        queryset=Grower.objects.all(), required=False, help_text="Only this grower (id).",
    )
    packhouse = IdChoiceField(
        queryset=Packhouse.objects.all(), required=False,
        help_text="Only batches received at this packhouse (id). Payments belong to no packhouse, so a grower's "
                  "row still shows all its payments in the period, and growers without such batches are left out.",
    )
    fruit_type = forms.ChoiceField(
        choices=[("", "Any fruit"), *FruitType.choices], required=False,
        help_text="Only batches of this fruit (payments as for packhouse).",
    )
    threshold = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, label="Threshold amount",
        help_text="Flag a grower when |balance| exceeds this amount. With neither threshold given, the company's "
                  "default amount and percentage both apply; with one or both given, only those do.",
    )
    threshold_percent = forms.DecimalField(
        required=False, min_value=0, max_digits=7, decimal_places=2, label="Threshold %",
        help_text="Flag a grower when |variance %| exceeds this percentage (a balance against no expected value "
                  "exceeds any percentage).",
    )
    flagged = forms.TypedChoiceField(
        choices=FLAGGED_CHOICES, required=False, coerce=lambda value: value == "true", empty_value=None,
        help_text="true: only flagged growers; false: only the others.",
    )
    ordering = forms.ChoiceField(
        choices=[("", "Grower code"), *((name, name) for name in ORDERING_CHOICES)], required=False,
        help_text="Sort by this column; a leading '-' sorts descending. Default: grower_code.",
    )

    def report_kwargs(self):
        """The keyword arguments of report.reconcile (the period included)."""
        data = self.cleaned_data
        date_from, date_to = self.period()
        return {
            "date_from": date_from, "date_to": date_to, "grower": data.get("grower"),
            "packhouse": data.get("packhouse"), "fruit_type": data.get("fruit_type") or None,
            "threshold_amount": data.get("threshold"), "threshold_percent": data.get("threshold_percent"),
            "flagged": data.get("flagged"), "ordering": data.get("ordering") or "grower_code",
        }


class DailyIntakeFilterSet(FilterSet):
    # The company's local dates (the view's day column), both inclusive. Two DateFilters rather than
    # DateFromToRangeFilter: that one turns the dates into datetimes at midnight in the active time zone,
    # which a date column then shifts to the previous day east of UTC.
    day_after = django_filters.DateFilter(field_name="day", lookup_expr="gte", label="From day")
    day_before = django_filters.DateFilter(field_name="day", lookup_expr="lte", label="To day")
    fruit_type = django_filters.MultipleChoiceFilter(choices=FruitType.choices)
    ordering = django_filters.OrderingFilter(fields=("day", "batches", "bins", "net_kg"))

    class Meta:
        model = DailyGrowerIntake
        form = BoundedPeriodsForm
        fields = ["grower", "packhouse", "fruit_type"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Every ordering ends with the view's unique key, so pages never overlap.
        return queryset.order_by(*queryset.query.order_by, "-day", "grower_id", "packhouse_id", "fruit_type")
