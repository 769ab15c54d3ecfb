import django_filters
from django.db.models import Q

from core.filters import FilterSet, IdChoiceFilter, StableOrderingFilter, StrictBooleanFilter

from .models import Block, Farm, FruitType, Grower, SprayClearance


class GrowerFilterSet(FilterSet):
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


class FarmFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search code, name or PUC")
    # By code on the page (a clerk knows G0042), by id in the API (an integrator holds ids).
    grower_code = django_filters.CharFilter(field_name="grower__code", lookup_expr="iexact", label="Grower code")
    active = StrictBooleanFilter()
    region = django_filters.CharFilter(lookup_expr="iexact")
    ordering = StableOrderingFilter(fields=("code", "name", "region", "created_at"))

    class Meta:
        model = Farm
        fields = ["grower", "active", "region"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(puc__iexact=value))


class BlockFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search block, farm or variety")
    grower = IdChoiceFilter(field_name="farm__grower", queryset=Grower.objects.all(), label="Grower")
    grower_code = django_filters.CharFilter(field_name="farm__grower__code", lookup_expr="iexact",
                                            label="Grower code")
    fruit_type = django_filters.ChoiceFilter(choices=FruitType.choices)
    variety = django_filters.CharFilter(lookup_expr="iexact")
    active = StrictBooleanFilter()
    ordering = StableOrderingFilter(fields=(("farm__code", "farm"), "code", "fruit_type", "variety", "created_at"))

    class Meta:
        model = Block
        fields = ["farm", "grower", "fruit_type", "variety", "active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__iexact=value) | Q(farm__code__icontains=value) | Q(variety__icontains=value))


class SprayClearanceFilterSet(FilterSet):
    farm = IdChoiceFilter(field_name="block__farm", queryset=Farm.objects.all(), label="Farm")
    ordering = StableOrderingFilter(fields=("cleared_on", "valid_until", "created_at"))

    class Meta:
        model = SprayClearance
        fields = ["block", "season", "farm"]
