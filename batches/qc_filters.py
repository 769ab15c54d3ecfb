"""The FilterSets of the defect catalogue and the QC inspections: one each, for the HTML list and the API."""

import django_filters
from django.db.models import Q

from core.filters import BoundedPeriodsForm, FilterSet, IdChoiceFilter, StableOrderingFilter, StrictBooleanFilter
from growers.models import Block, FruitType, Grower

from .models import DefectType, QCInspection, QCResult, Severity


class DefectTypeFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search code or name")
    # A fruit's own defects and those of any fruit: what an inspector of that fruit counts.
    fruit_type = django_filters.ChoiceFilter(choices=FruitType.choices, method="for_fruit", label="Fruit")
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    active = StrictBooleanFilter()
    ordering = StableOrderingFilter(fields=("code", "name", "fruit_type", "severity"))

    class Meta:
        model = DefectType
        fields = ["fruit_type", "severity", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))

    def for_fruit(self, queryset, name, value):
        return queryset.filter(Q(fruit_type=value) | Q(fruit_type=""))


class QCInspectionFilterSet(FilterSet):
    batch_code = django_filters.CharFilter(field_name="batch__batch_code", lookup_expr="iexact", label="Batch code")
    grower = IdChoiceFilter(field_name="batch__grower", queryset=Grower.objects.all(), label="Grower (id)")
    block = IdChoiceFilter(field_name="batch__block", queryset=Block.objects.all(), label="Block (id)")
    fruit_type = django_filters.ChoiceFilter(field_name="batch__fruit_type", choices=FruitType.choices, label="Fruit")
    result = django_filters.MultipleChoiceFilter(choices=QCResult.choices, distinct=False)
    # Local dates, both inclusive (as the batch list's intake_date).
    inspected_at = django_filters.DateFromToRangeFilter(label="Inspected")
    ordering = StableOrderingFilter(fields=("inspected_at", "sample_size", "result"))

    class Meta:
        model = QCInspection
        form = BoundedPeriodsForm
        fields = ["batch", "result", "inspector"]
