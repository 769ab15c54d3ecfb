import django_filters
from django.db.models import Q

from core.filters import FilterSet, StableOrderingFilter, StrictBooleanFilter

from .models import Packhouse


class PackhouseFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search code or name")
    active = StrictBooleanFilter()
    region = django_filters.CharFilter(lookup_expr="iexact")
    ordering = StableOrderingFilter(fields=("code", "name", "region"))

    class Meta:
        model = Packhouse
        fields = ["active", "region"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
