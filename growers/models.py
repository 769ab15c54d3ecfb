from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from stdnum import ean

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


FARM_CODE_RE = r"^[A-Z0-9][A-Z0-9-]{1,23}$"
BLOCK_CODE_RE = r"^[A-Z0-9][A-Z0-9-]{0,19}$"
FARM_CODE_VALIDATOR = RegexValidator(FARM_CODE_RE, "Use 2 to 24 capital letters, digits or dashes, e.g. G0042-F1.")
BLOCK_CODE_VALIDATOR = RegexValidator(BLOCK_CODE_RE, "Use 1 to 20 capital letters, digits or dashes, e.g. B07.")
PUC_VALIDATOR = RegexValidator(r"^[A-Z0-9]{3,16}$", "A production unit code is 3 to 16 capital letters or digits.")


def validate_gs1_ggn(value):
    """A GGN is a GS1 GLN: 13 digits, the last a GS1 mod-10 check digit."""
    GGN_VALIDATOR(value)
    if not ean.is_valid(value):
        raise ValidationError(
            "The GGN's check digit is wrong: check the 13 digits on the GlobalG.A.P. certificate.", code="ggn_check",
        )


class Farm(models.Model):
    """A grower's farm: the production unit that certificates and export documents name."""

    grower = models.ForeignKey(Grower, on_delete=models.PROTECT, related_name="farms")
    code = models.CharField(max_length=24, unique=True, validators=[FARM_CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    puc = models.CharField("PUC", max_length=16, blank=True, validators=[PUC_VALIDATOR],
                           help_text="Production unit code, as registered for export (optional).")
    ggn = models.CharField("GGN", max_length=13, blank=True, validators=[validate_gs1_ggn],
                           help_text="GlobalG.A.P. number of this farm, 13 digits (optional).")
    region = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "farms"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=FARM_CODE_RE), name="farms_code_format"),
            models.CheckConstraint(
                condition=models.Q(ggn="") | models.Q(ggn__regex=r"^\d{13}$"), name="farms_ggn_format",
            ),
            models.UniqueConstraint(
                fields=["puc"], condition=~models.Q(puc=""), name="farms_puc_unique",
                violation_error_message="Another farm already has this PUC.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Block(models.Model):
    """An orchard block: one fruit and variety, where every batch's fruit grew."""

    farm = models.ForeignKey(Farm, on_delete=models.PROTECT, related_name="blocks")
    code = models.CharField(max_length=20, validators=[BLOCK_CODE_VALIDATOR])
    fruit_type = models.CharField(max_length=20, choices=FruitType.choices)
    variety = models.CharField(max_length=100)
    hectares = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True,
                                   validators=[MinValueValidator(Decimal("0.01"))])
    planted_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "blocks"
        ordering = ["farm__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["farm", "code"], name="blocks_code_unique_in_farm",
                                    violation_error_message="This farm already has a block with this code."),
            models.CheckConstraint(condition=models.Q(code__regex=BLOCK_CODE_RE), name="blocks_code_format"),
            models.CheckConstraint(condition=models.Q(fruit_type__in=FruitType.values), name="blocks_fruit_type_valid"),
            models.CheckConstraint(condition=~models.Q(variety=""), name="blocks_variety_set"),
            models.CheckConstraint(
                condition=models.Q(hectares__isnull=True) | models.Q(hectares__gt=0), name="blocks_hectares_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(planted_year__isnull=True) | models.Q(planted_year__range=(1900, 2100)),
                name="blocks_planted_year_range",
            ),
        ]

    def __str__(self):
        return f"{self.farm.code}/{self.code}"

    @property
    def label(self):
        """Grower, farm and block in one line, as pickers and dockets show them."""
        farm = self.farm
        return (f"{farm.grower.code} {farm.grower.name} · {farm.code} {farm.name} · "
                f"{self.code} ({self.get_fruit_type_display()} {self.variety})")


class SprayClearance(models.Model):
    """The residue (MRL) test result that lets a block's fruit in for a season."""

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="clearances")
    season = models.ForeignKey("seasons.Season", on_delete=models.PROTECT, related_name="clearances")
    cleared_on = models.DateField()
    lab_reference = models.CharField(max_length=60)
    valid_until = models.DateField(null=True, blank=True, help_text="Leave empty when it holds for the whole season.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "spray_clearances"
        ordering = ["-cleared_on", "-id"]
        indexes = [models.Index(fields=["block", "season"], name="ix_spray_clearances_block_season")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(lab_reference=""), name="spray_clearances_reference_set"),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=models.F("cleared_on")),
                name="spray_clearances_valid_after_cleared",
                violation_error_message="A clearance cannot expire before the day it was given.",
            ),
        ]

    def __str__(self):
        return f"{self.block} {self.season_id}: {self.lab_reference}"

    def covers(self, day):
        return self.cleared_on <= day and (self.valid_until is None or day <= self.valid_until)
