import django_filters
from django.db.models import Q

from core.filters import StableOrderingFilter, StrictBooleanFilter

from .models import Grower


class GrowerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search code, name or contact")
    active = StrictBooleanFilter()
    region = django_filters.CharFilter(lookup_expr="iexact")
    ordering = StableOrderingFilter(fields=("code", "name", "region", "created_at"))

    class Meta:
        model = Grower
        fields = ["active", "region"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(contact_name__icontains=value)
        )
