"""Read-only shapes of the reconciliation report and the daily intake view."""

from rest_framework import serializers

from growers.api.serializers import GrowerRefSerializer
from growers.models import FruitType
from packhouses.api.serializers import PackhouseRefSerializer

from ..report import PERIOD_SOURCES


def money(help_text):
    return serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, help_text=help_text)


def kg(help_text):
    return serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, help_text=help_text)


class ReportGrowerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="grower_id", read_only=True)
    code = serializers.CharField(source="grower_code", read_only=True)
    name = serializers.CharField(source="grower_name", read_only=True)


class PaidSerializer(serializers.Serializer):
    """Payments in the period by type, as amounts settled (a negative adjustment lowers them)."""

    advance = money("Advances.")
    final = money("Final payments.")
    deduction = money("Deductions: charges withheld from the grower.")
    adjustment = money("Adjustments, either sign.")
    total = money("All of the above.")

    def to_representation(self, instance):
        return super().to_representation({
            "advance": instance.paid_advance, "final": instance.paid_final,
            "deduction": instance.paid_deduction, "adjustment": instance.paid_adjustment,
            "total": instance.total_paid,
        })


class _Figures(serializers.Serializer):
    batches = serializers.IntegerField(read_only=True, help_text="Batches received, rejected ones not included.")
    rejected_batches = serializers.IntegerField(read_only=True, help_text="Rejected batches: they carry no value.")
    unpriced_batches = serializers.IntegerField(
        read_only=True,
        help_text="Batches with a price missing for a grade they need: left out of expected_value, never valued "
                  "at zero.",
    )
    net_kg = kg("Net kg of the batches that are not rejected.")
    packed_kg = kg("Class 1 to 3 kg of those batches (waste excluded).")
    expected_value = money("What the priced batches are worth, in the company's currency, rounded to cents once.")
    paid = PaidSerializer(source="*", read_only=True)
    balance = money("expected_value - paid.total: positive means the grower is still owed money.")
    variance_percent = serializers.DecimalField(
        max_digits=None, decimal_places=2, read_only=True, allow_null=True,
        help_text="balance / expected_value x 100, two decimals; null when expected_value is 0.",
    )


class ReconciliationRowSerializer(_Figures):
    grower = ReportGrowerSerializer(source="*", read_only=True)
    flagged = serializers.BooleanField(
        read_only=True, help_text="|balance| > the amount threshold, or |variance_percent| > the percentage.",
    )

    def get_fields(self):
        fields = super().get_fields()
        return {"grower": fields.pop("grower"), **fields}


class ReconciliationTotalsSerializer(_Figures):
    growers = serializers.IntegerField(read_only=True, help_text="Rows of the report, on all pages.")
    flagged_growers = serializers.IntegerField(read_only=True)


class ReconciliationParametersSerializer(serializers.Serializer):
    """The parameters the report was computed with, defaults filled in."""

    date_from = serializers.DateField(read_only=True)
    date_to = serializers.DateField(read_only=True)
    period_source = serializers.ChoiceField(
        choices=list(PERIOD_SOURCES), read_only=True,
        help_text="Where the dates came from: " + "; ".join(f"{k}: {v}" for k, v in PERIOD_SOURCES.items()) + ".",
    )
    season = serializers.CharField(read_only=True, allow_null=True,
                                   help_text="The code of the season whose days the period is, else null.")
    time_zone = serializers.CharField(read_only=True, help_text="The company's: the dates are local dates.")
    currency = serializers.CharField(read_only=True)
    threshold_amount = serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, allow_null=True)
    threshold_percent = serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, allow_null=True)


class ReconciliationPageSerializer(serializers.Serializer):
    """The list envelope, plus the totals over all rows and the parameters used."""

    items = ReconciliationRowSerializer(many=True, read_only=True)
    total = serializers.IntegerField(read_only=True, help_text="Rows matching the parameters, on all pages.")
    limit = serializers.IntegerField(read_only=True)
    offset = serializers.IntegerField(read_only=True)
    totals = ReconciliationTotalsSerializer(read_only=True)
    parameters = ReconciliationParametersSerializer(read_only=True)

    def to_representation(self, report):
        return super().to_representation({
            "items": report.rows, "total": report.totals.growers, "limit": report.limit, "offset": report.offset,
            "totals": report.totals, "parameters": report,
        })


class DailyIntakeSerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True, help_text="The company's local date.")
    grower = GrowerRefSerializer(read_only=True)
    packhouse = PackhouseRefSerializer(read_only=True)
    fruit_type = serializers.ChoiceField(choices=FruitType.choices, read_only=True)
    batches = serializers.IntegerField(read_only=True, help_text="Batches received, rejected ones included.")
    bins = serializers.IntegerField(read_only=True)
    net_kg = kg("Net kg received.")
