import django_filters

from batches.models import Batch
from core.filters import FilterSet, IdChoiceFilter, StableOrderingFilter, StrictBooleanFilter

from .models import Pallet, PalletLine, PalletStatus, Room


class PalletFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="SSCC")
    # distinct=False: a column of the row itself cannot repeat a row.
    status = django_filters.MultipleChoiceFilter(choices=PalletStatus.choices, distinct=False)
    batch = IdChoiceFilter(queryset=Batch.objects.all(), method="with_batch", label="Batch")
    batch_code = django_filters.CharFilter(method="with_batch_code", label="Batch code")
    ordering = StableOrderingFilter(fields=("sscc", "built_at", "status"))

    class Meta:
        model = Pallet
        fields = ["packhouse", "room", "status"]

    def search(self, queryset, name, value):
        # A scanner may send the AI with the SSCC: "00" + 18 digits.
        value = value.strip()
        if len(value) == 20 and value.startswith("00"):
            value = value[2:]
        return queryset.filter(sscc__startswith=value)

    def with_batch(self, queryset, name, value):
        return queryset.filter(pk__in=PalletLine.objects.filter(batch_id=value.pk).values("pallet_id"))

    def with_batch_code(self, queryset, name, value):
        return queryset.filter(pk__in=PalletLine.objects.filter(batch__batch_code=value.strip().upper())
                               .values("pallet_id"))


class RoomFilterSet(FilterSet):
    active = StrictBooleanFilter()
    ordering = StableOrderingFilter(fields=("code", "name", "capacity"))

    class Meta:
        model = Room
        fields = ["packhouse", "active"]
