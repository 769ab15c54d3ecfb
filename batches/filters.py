import django_filters

from core.filters import BoundedPeriodsForm, FilterSet, StableOrderingFilter
from growers.models import FruitType
from seasons.filters import SeasonFilter

from .models import Batch, Status


class BatchFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Batch code")
    grower_code = django_filters.CharFilter(field_name="grower__code", lookup_expr="iexact", label="Grower code")
    # distinct=False: a column of the row itself cannot repeat a row, and SELECT DISTINCT over every
    # column would sort the whole result.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    fruit_type = django_filters.MultipleChoiceFilter(choices=FruitType.choices, distinct=False)
    variety = django_filters.CharFilter(lookup_expr="iexact")
    # Two plain date filters, not DateFromToRangeFilter: that one turns a date into a local
    # midnight datetime, which a date column compares in UTC (a day early east of UTC).
    harvest_date_after = django_filters.DateFilter(field_name="harvest_date", lookup_expr="gte")
    harvest_date_before = django_filters.DateFilter(field_name="harvest_date", lookup_expr="lte")
    # Dates in the company's time zone: the whole local day is included.
    intake_date = django_filters.DateFromToRangeFilter()
    # By the season's intake dates, not batches.season_id: the range is ix_batches_intake_date's Index Cond.
    season = SeasonFilter(date_field="intake_date", moments=True)
    ordering = StableOrderingFilter(
        fields=("batch_code", "intake_date", "harvest_date", "status", "fruit_type", "net_weight_kg", "bin_count"),
    )

    class Meta:
        model = Batch
        form = BoundedPeriodsForm
        fields = ["grower", "packhouse", "status", "fruit_type", "variety"]

    def search(self, queryset, name, value):
        # Codes are upper-case; a prefix match uses the batch_code index even at a million rows.
        return queryset.filter(batch_code__startswith=value.strip().upper())
