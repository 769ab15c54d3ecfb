import django_filters
from django.db.models import Q

from core.filters import FilterSet, StableOrderingFilter

from .models import Load, LoadStatus


class LoadFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Load, vehicle, container or consignee")
    status = django_filters.MultipleChoiceFilter(choices=LoadStatus.choices, distinct=False)
    ordering = StableOrderingFilter(fields=("load_number", "created_at", "planned_departure", "status"))

    class Meta:
        model = Load
        fields = ["packhouse", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(load_number__iexact=value)
            | Q(vehicle_registration__iexact=value)
            | Q(container_number__iexact=value.replace(" ", ""))
            | Q(consignee__icontains=value)
        )
