import django_filters

from core.filters import BoundedPeriodsForm, FilterSet, StableOrderingFilter
from growers.models import FruitType
from pallets.models import Grade

from .models import ChargeRule, Pool, PoolIncome, PoolStatus


class OnceEach(FilterSet):
    """A parameter that takes one value given twice is a 400, not the last one silently (the schema says one)."""

    def is_valid(self):
        valid = super().is_valid()
        getlist = getattr(self.data, "getlist", None)
        repeated = [name for name, filter_ in self.filters.items()
                    if not isinstance(filter_, django_filters.MultipleChoiceFilter)
                    and getlist is not None and len(getlist(name)) > 1]
        for name in repeated:
            self.form.add_error(name if name in self.form.fields else None, "Give this parameter once.")
        return valid and not repeated


class PoolFilterSet(OnceEach):
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


class PoolIncomeFilterSet(OnceEach):
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    received_on_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_on_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte")
    ordering = StableOrderingFilter(fields=("received_on", "amount", "created_at"))

    class Meta:
        model = PoolIncome
        form = BoundedPeriodsForm
        fields = ["pool", "grade"]


class ChargeRuleFilterSet(OnceEach):
    class Meta:
        model = ChargeRule
        fields = ["pool", "kind", "basis"]
