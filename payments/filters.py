import django_filters
from django.db.models import Q

from core.filters import BoundedPeriodsForm, FilterSet, StableOrderingFilter
from growers.models import FruitType
from seasons.filters import SeasonFilter

from .models import Grade, GrowerPayment, PaymentRun, PaymentType, PriceAgreement, RemittanceAdvice, RunStatus


class GrowerPaymentFilterSet(FilterSet):
    payment_type = django_filters.MultipleChoiceFilter(choices=PaymentType.choices)
    # Plain date filters (see batches.filters: a range filter would compare the date in UTC).
    paid_date_after = django_filters.DateFilter(field_name="paid_date", lookup_expr="gte")
    paid_date_before = django_filters.DateFilter(field_name="paid_date", lookup_expr="lte")
    # Payments paid on the season's days (ix_grower_payments_paid_date).
    season = SeasonFilter(date_field="paid_date")
    q = django_filters.CharFilter(field_name="reference", lookup_expr="icontains", label="Reference")
    grower_code = django_filters.CharFilter(field_name="grower__code", lookup_expr="iexact", label="Grower code")
    ordering = StableOrderingFilter(fields=("paid_date", "amount", "reference", "created_at"))

    class Meta:
        model = GrowerPayment
        form = BoundedPeriodsForm
        fields = ["grower", "payment_type"]


class PriceAgreementFilterSet(FilterSet):
    fruit_type = django_filters.ChoiceFilter(choices=FruitType.choices)
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    variety = django_filters.CharFilter(lookup_expr="iexact")
    valid_on = django_filters.DateFilter(method="valid_on_date", label="In force on this date")
    ordering = StableOrderingFilter(fields=("fruit_type", "variety", "grade", "valid_from", "price_per_kg"))

    class Meta:
        model = PriceAgreement
        form = BoundedPeriodsForm
        fields = ["fruit_type", "variety", "grade"]

    def valid_on_date(self, queryset, name, value):
        return queryset.filter(Q(valid_from__lte=value), Q(valid_to__isnull=True) | Q(valid_to__gte=value))


class PoolSeasonFilter(SeasonFilter):
    """`?season=2026` (code) or id: the rows whose pool is of that season."""

    def __init__(self, *, field_name, **kwargs):
        super().__init__(date_field=field_name, **kwargs)

    def filter(self, qs, value):
        return qs if value is None else qs.filter(**{self.field_name: value})


class PaymentRunFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    pool_code = django_filters.CharFilter(field_name="pool__code", lookup_expr="iexact", label="Pool code")
    # The pool's season (a run has no date of its own that a season's days would select).
    season = PoolSeasonFilter(field_name="pool__season")
    ordering = StableOrderingFilter(fields=("prepared_at", "approved_at", "posted_at"))

    class Meta:
        model = PaymentRun
        fields = ["pool", "status", "season"]


class RemittanceAdviceFilterSet(FilterSet):
    grower_code = django_filters.CharFilter(field_name="grower__code", lookup_expr="iexact", label="Grower code")
    pool_code = django_filters.CharFilter(field_name="pool__code", lookup_expr="iexact", label="Pool code")
    paid_date_after = django_filters.DateFilter(field_name="paid_date", lookup_expr="gte")
    paid_date_before = django_filters.DateFilter(field_name="paid_date", lookup_expr="lte")
    ordering = StableOrderingFilter(fields=("number", "paid_date", "final"))

    class Meta:
        model = RemittanceAdvice
        form = BoundedPeriodsForm
        fields = ["grower", "pool", "run"]
