import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q

from core.filters import (
    MAX_ID,
    BoundedPeriodsForm,
    FilterSet,
    IdChoiceFilter,
    StableOrderingFilter,
    StrictBooleanFilter,
)
from growers.models import FruitType, Grower
from packhouses.models import Packhouse
from seasons.filters import SeasonFilter

from .models import Batch, BatchBin, Status

# A bin code searched for is in few batches (one open, some closed); more would be a mis-scan.
BIN_SEARCH_LIMIT = 100
# Growers a search word may name: "van" in a name is many growers, yet a list of ids that the list's query
# reads through ix_batches_grower_harvest_status; a word that names more is too vague to narrow anything.
GROWER_SEARCH_LIMIT = 200


class BatchFilterSet(FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Search", max_length=100,
        help_text="Batch code, bin code, grower code or part of a grower's name.",
    )
    grower_code = django_filters.CharFilter(field_name="grower__code", lookup_expr="iexact", label="Grower code")
    farm = django_filters.CharFilter(method="filter_farm", label="Farm", max_length=24, help_text="Farm code (or id).")
    block = django_filters.CharFilter(
        method="filter_block", label="Block", help_text="Farm code/block code, e.g. G0042-F1/B07 (or the block's id).",
        validators=[RegexValidator(r"^\s*(\d{1,18}|[A-Za-z0-9-]{1,24}/[A-Za-z0-9-]{1,20})\s*$",
                                   "Give the block's id or farm code/block code, e.g. G0042-F1/B07.")],
    )
    # distinct=False: a column of the row itself cannot repeat a row, and SELECT DISTINCT over every
    # column would sort the whole result.
    packhouse = IdChoiceFilter(queryset=Packhouse.objects.all(), empty_label="All packhouses")
    # Check boxes, not a multi-select: no Ctrl-click, every option in sight. ?status=packed&status=graded.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False,
                                                 widget=forms.CheckboxSelectMultiple)
    fruit_type = django_filters.MultipleChoiceFilter(choices=FruitType.choices, distinct=False,
                                                     widget=forms.CheckboxSelectMultiple, label="Fruit")
    variety = django_filters.CharFilter(lookup_expr="iexact")
    # The dashboard's count of batches received without spray clearance links here.
    without_clearance = StrictBooleanFilter(label="Received without clearance")
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
        """A batch code's prefix, a bin code exactly, a grower code's prefix or part of a grower's name.

        The bin's batches and the growers are looked up first (ix_batch_bins_code; growers is a small
        table) so that the list's query is an OR of index lookups on batches (the batch_code index,
        the primary key, ix_batches_grower_harvest_status); an EXISTS or a join inside the OR would
        make PostgreSQL read every batch to test it.
        """
        text = value.replace("\x00", "").strip()
        if not text:
            return queryset
        code = text.upper()
        # Codes are upper-case; a prefix match uses the batch_code index even at a million rows.
        matches = Q(batch_code__startswith=code)
        holding = list(BatchBin.objects.filter(code=code).values_list("batch_id", flat=True)[:BIN_SEARCH_LIMIT])
        if holding:
            matches |= Q(pk__in=holding)
        growers = list(
            Grower.objects.filter(Q(code__startswith=code) | Q(name__icontains=text))
            .order_by("code").values_list("pk", flat=True)[:GROWER_SEARCH_LIMIT]
        )
        if growers:
            matches |= Q(grower_id__in=growers)
        return queryset.filter(matches)

    def filter_farm(self, queryset, name, value):
        value = value.strip().upper()
        by_code = Q(block__farm__code=value)
        # A farm code may be all digits, so a number is either.
        if value.isdigit() and int(value) <= MAX_ID:
            by_code |= Q(block__farm_id=int(value))
        return queryset.filter(by_code)

    def filter_block(self, queryset, name, value):
        value = value.strip().upper()
        if value.isdigit():
            return queryset.filter(block_id=int(value))
        farm, _, code = value.partition("/")
        return queryset.filter(block__farm__code=farm, block__code=code)
