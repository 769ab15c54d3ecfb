import django_filters

from core.filters import BoundedPeriodsForm, FilterSet, StableOrderingFilter
from growers.models import FruitType
from pallets.models import Grade

from .models import ChargeRule, Pool, PoolIncome, PoolStatus


class PoolFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=PoolStatus.choices)
    fruit_type = django_filters.ChoiceFilter(choices=FruitType.choices)
    season_code = django_filters.CharFilter(field_name="season__code", lookup_expr="iexact", label="Season code")
    q = django_filters.CharFilter(method="search", label="Search code or name")
    ordering = StableOrderingFilter(fields=("code", "name", "created_at"))

    class Meta:
        model = Pool
        fields = ["season", "status", "fruit_type"]

    def search(self, queryset, name, value):
        return queryset.filter(code__icontains=value) | queryset.filter(name__icontains=value)


class PoolIncomeFilterSet(FilterSet):
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    received_on_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_on_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte")
    ordering = StableOrderingFilter(fields=("received_on", "amount", "created_at"))

    class Meta:
        model = PoolIncome
        form = BoundedPeriodsForm
        fields = ["pool", "grade"]


class ChargeRuleFilterSet(FilterSet):
    class Meta:
        model = ChargeRule
        fields = ["pool", "kind", "basis"]
