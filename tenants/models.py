from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

# Lower-case letters, digits and underscores, starting with a letter: a name
# that needs no quoting anywhere and cannot collide with pg_* or information_schema.
SCHEMA_NAME_RE = r"^[a-z][a-z0-9_]{1,39}$"
RESERVED_SCHEMA_NAMES = frozenset({"public", "information_schema", "template"})


class Company(TenantMixin):
    """A packing company: one tenant, one PostgreSQL schema."""

    name = models.CharField(max_length=200)
    currency = models.CharField(
        max_length=3,
        default=settings.DEFAULT_CURRENCY,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. ZAR.")],
    )
    time_zone = models.CharField(max_length=64, default=settings.DEFAULT_TIME_ZONE)
    # Reconciliation flags a grower when |balance| exceeds either threshold.
    variance_threshold_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("500.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    variance_threshold_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    # A suspended company's hosts answer 404.
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(variance_threshold_amount__gte=0)
                & models.Q(variance_threshold_percent__gte=0),
                name="company_thresholds_non_negative",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def primary_domain(self):
        domain = self.domains.filter(is_primary=True).first()
        return domain.domain if domain else None


class Domain(DomainMixin):
    """A hostname that routes to one company."""

    def __str__(self):
        return self.domain
