"""The parameters of the reconciliation report and statements, and the daily intake FilterSet.

The report's parameters are not filters over a queryset: they go into one
SQL statement. So they are a plain Django form, not a FilterSet. The same
form serves the HTML page (fields, errors beside them) and the API (its
errors become the 400's `errors`), with the same names in the query
string: `from`, `to`, `season`, `grower`, `packhouse`, `fruit_type`,
`threshold`, `threshold_percent`, `flagged`, `ordering`.

The daily intake list reads a (materialized) view through a model, so it is
an ordinary FilterSet like every other list.
"""

import django_filters
from django import forms

from core.filters import BoundedPeriodsForm, FilterSet, IdChoiceField
from growers.models import FruitType, Grower
from packhouses.models import Packhouse
from seasons.fields import SeasonField
from seasons.filters import SeasonFilter
from seasons.services import current_season

from .models import DailyGrowerIntake
from .report import MAX_PERIOD_DAYS, ORDERING_CHOICES, period_errors, resolve_period

FLAGGED_CHOICES = [("", "All growers"), ("true", "Flagged only"), ("false", "Not flagged")]


def _period_fields():
    # `from` and `to` are Python keywords, so they are added to base_fields rather than declared.
    return {
        "from": forms.DateField(
            required=False, label="From",
            help_text="First local date of the period (YYYY-MM-DD). Default: 364 days before `to`; with neither "
                      "`from` nor `to`, the current season's first day.",
        ),
        "to": forms.DateField(
            required=False, label="To",
            help_text=f"Last local date of the period, inclusive (YYYY-MM-DD). Default: today; with neither `from` "
                      f"nor `to`, the current season's last day (or, when the company has no season, today and "
                      f"`from` 364 days before). At most {MAX_PERIOD_DAYS} days from `from`.",
        ),
        "season": SeasonField(
            empty_label="Current season",
            help_text="A season by code (e.g. 2026) or id: the period is its days. Not together with from or to.",
        ),
    }


class PeriodForm(forms.Form):
    """`from` and `to`, local dates, both inclusive, or a `season`. Missing ones get the defaults of
    report.resolve_period: the current season when nothing is given."""

    period_info = None  # the report.Period, once valid

    def clean(self):
        data = super().clean()
        if self.errors.keys() & {"from", "to", "season"}:
            return data
        if data.get("season") is not None and (data.get("from") or data.get("to")):
            self.add_error("season", "Give a season or a period (from, to), not both.")
            return data
        self.period_info = resolve_period(data.get("from"), data.get("to"), data.get("season"))
        data["from"], data["to"] = self.period_info.date_from, self.period_info.date_to
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
            "period": self.period_info,
        }


class DailyIntakeFilterSet(FilterSet):
    # The company's local dates (the view's day column), both inclusive. Two DateFilters rather than
    # DateFromToRangeFilter: that one turns the dates into datetimes at midnight in the active time zone,
    # which a date column then shifts to the previous day east of UTC.
    day_after = django_filters.DateFilter(field_name="day", lookup_expr="gte", label="From day")
    day_before = django_filters.DateFilter(field_name="day", lookup_expr="lte", label="To day")
    season = SeasonFilter(date_field="day")
    fruit_type = django_filters.MultipleChoiceFilter(choices=FruitType.choices)
    ordering = django_filters.OrderingFilter(fields=("day", "batches", "bins", "net_kg"))

    class Meta:
        model = DailyGrowerIntake
        form = BoundedPeriodsForm
        fields = ["grower", "packhouse", "fruit_type"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("day_after") is None and data.get("day_before") is None and data.get("season") is None:
            # No period asked for: the current season's days (all days while the company has no season).
            season = current_season()
            if season is not None:
                queryset = queryset.filter(day__gte=season.start_date, day__lte=season.end_date)
        # Every ordering ends with the view's unique key, so pages never overlap.
        return queryset.order_by(*queryset.query.order_by, "-day", "grower_id", "packhouse_id", "fruit_type")
