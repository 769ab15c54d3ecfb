from django.core.validators import RegexValidator
from django.db import models

CODE_VALIDATOR = RegexValidator(r"^[A-Z0-9]{2,10}$", "Use 2 to 10 capital letters or digits, e.g. PH1.")


class Packhouse(models.Model):
    """A packing site. Its code starts every batch code made there."""

    code = models.CharField(max_length=10, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "packhouses"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z0-9]{2,10}$"), name="packhouses_code_format"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"
