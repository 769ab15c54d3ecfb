from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Func, Q, Value

SEASON_CODE_VALIDATOR = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,19}$", "Use 1 to 20 capital letters, digits or dashes, e.g. 2026 or 2026-CITRUS."
)


class DateRange(Func):
    """daterange(start, end, '[]'): both ends inclusive, as a season's dates are."""

    function = "daterange"
    output_field = DateRangeField()


class Season(models.Model):
    """A packing season. Every batch belongs to the one that holds its local intake date."""

    code = models.CharField(max_length=20, unique=True, validators=[SEASON_CODE_VALIDATOR])
    name = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField(help_text="The last day of the season (inclusive).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "seasons"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="seasons_end_after_start",
                violation_error_message="A season ends on or after the day it starts.",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9][A-Z0-9-]{0,19}$"), name="seasons_code_format",
            ),
            # Two seasons never share a day, so a date names at most one season.
            ExclusionConstraint(
                name="seasons_no_overlap",
                expressions=[(DateRange("start_date", "end_date", Value("[]")), RangeOperators.OVERLAPS)],
                violation_error_message="This season overlaps another season.",
            ),
        ]

    def __str__(self):
        return self.name or self.code

    def __contains__(self, day):
        return self.start_date <= day <= self.end_date

    @property
    def days(self):
        return (self.end_date - self.start_date).days + 1
