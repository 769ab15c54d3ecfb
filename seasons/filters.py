import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from core.filters import FilterSet, StableOrderingFilter

from .fields import HELP_TEXT, SeasonField
from .models import Season
from .services import season_moments


@extend_schema_field({"type": "string", "maxLength": 20, "description": HELP_TEXT})
class SeasonFilter(django_filters.Filter):
    """`?season=2026` (code) or `?season=7` (id): the rows whose `date_field` falls in the season.

    A range of dates rather than a foreign key, so that a list filtered by season reads the date index
    it reads for any period (ix_batches_intake_date, ix_grower_payments_paid_date), and so that rows
    without a season of their own (payments) can be filtered too. `moments=True` for a timestamp
    column: the season's local days as aware moments, end exclusive.
    """

    field_class = SeasonField

    def __init__(self, *, date_field, moments=False, **kwargs):
        kwargs.setdefault("label", "Season")
        super().__init__(field_name=date_field, **kwargs)
        self.moments = moments

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.moments:
            start, end = season_moments(value)
            return qs.filter(**{f"{self.field_name}__gte": start, f"{self.field_name}__lt": end})
        return qs.filter(**{f"{self.field_name}__gte": value.start_date, f"{self.field_name}__lte": value.end_date})


class SeasonFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search code or name")
    ordering = StableOrderingFilter(fields=("code", "name", "start_date", "end_date"))

    class Meta:
        model = Season
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
