from django.core.validators import RegexValidator
from django.db import models

CODE_VALIDATOR = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,19}$", "Use 2 to 20 capital letters, digits or dashes, e.g. G0042."
)
GGN_VALIDATOR = RegexValidator(r"^\d{13}$", "A GlobalG.A.P. number (GGN) has 13 digits.")


class FruitType(models.TextChoices):
    APPLE = "apple", "Apple"
    PEAR = "pear", "Pear"
    CITRUS = "citrus", "Citrus"
    STONE_FRUIT = "stone_fruit", "Stone fruit"
    GRAPE = "grape", "Grape"
    AVOCADO = "avocado", "Avocado"
    KIWIFRUIT = "kiwifruit", "Kiwifruit"


class Grower(models.Model):
    """A farm business that delivers fruit and is paid for it."""

    code = models.CharField(max_length=20, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    region = models.CharField(max_length=100, blank=True)
    ggn = models.CharField("GGN", max_length=13, blank=True, validators=[GGN_VALIDATOR],
                           help_text="GlobalG.A.P. number, 13 digits (optional).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "growers"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z0-9][A-Z0-9-]{1,19}$"), name="growers_code_format",
            ),
            models.CheckConstraint(
                condition=models.Q(ggn="") | models.Q(ggn__regex=r"^\d{13}$"), name="growers_ggn_format",
            ),
            models.UniqueConstraint(
                fields=["ggn"], condition=~models.Q(ggn=""), name="growers_ggn_unique",
                violation_error_message="Another grower already has this GGN.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"
