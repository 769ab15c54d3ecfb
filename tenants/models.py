import functools
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models, transaction
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name, schema_context

from core import write_watch
from core.cache import TTL, generations_and_entries, increment, stamped, unstamped
from core.fastpath.formats import HOSTS

# Lower-case letters, digits and underscores, starting with a letter: a name
# that needs no quoting anywhere and cannot collide with pg_* or information_schema.
SCHEMA_NAME_RE = r"^[a-z][a-z0-9_]{1,39}$"
RESERVED_SCHEMA_NAMES = frozenset({"public", "information_schema", "template"})


class MrlGate(models.TextChoices):
    OFF = "off", "Off"
    WARN = "warn", "Warn"
    BLOCK = "block", "Block"


class NumberLocale(models.TextChoices):
    """Locales whose number format a company may pick (core.numbers reads them with Babel's CLDR data)."""

    EN_ZA = "en-ZA", "English (South Africa): 12 345,67"
    AF_ZA = "af-ZA", "Afrikaans (South Africa): 12 345,67"
    EN_US = "en-US", "English (United States): 12,345.67"
    EN_GB = "en-GB", "English (United Kingdom): 12,345.67"
    EN_AU = "en-AU", "English (Australia): 12,345.67"
    EN_NZ = "en-NZ", "English (New Zealand): 12,345.67"
    DE_DE = "de-DE", "German (Germany): 12.345,67"
    NL_NL = "nl-NL", "Dutch (Netherlands): 12.345,67"
    ES_ES = "es-ES", "Spanish (Spain): 12.345,67"
    ES_CL = "es-CL", "Spanish (Chile): 12.345,67"
    PT_BR = "pt-BR", "Portuguese (Brazil): 12.345,67"
    FR_FR = "fr-FR", "French (France): 12 345,67"


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
    # What intake does when a block has no spray (MRL) clearance for the season.
    mrl_gate = models.CharField(
        "MRL gate", max_length=5, choices=MrlGate.choices, default=MrlGate.WARN, db_default=MrlGate.WARN,
        help_text="Off: no check. Warn: record the batch and flag it. Block: refuse the intake.",
    )
    qc_required = models.BooleanField(
        "QC required", default=False, db_default=False,
        help_text="A batch needs a passed or downgraded QC inspection before grading.",
    )
    # GS1: the SSCC of every pallet starts with the extension digit and this prefix (pallets/sscc.py).
    gs1_company_prefix = models.CharField(
        "GS1 company prefix", max_length=10, blank=True, default="", db_default="",
        validators=[RegexValidator(r"^[0-9]{7,10}$", "Use the 7 to 10 digits GS1 issued to the company.")],
        help_text="Issued by GS1; needed before pallets can be built.",
    )
    sscc_extension_digit = models.PositiveSmallIntegerField(
        "SSCC extension digit", default=0, db_default=0, validators=[MaxValueValidator(9)],
        help_text="0 to 9: the first digit of every SSCC the company issues.",
    )
    # How numbers are typed and shown on its pages and printouts (docs/DATA_ENTRY.md); the API keeps JSON decimals.
    locale = models.CharField(
        "number format", max_length=16, choices=NumberLocale.choices, default=NumberLocale.EN_ZA,
        db_default=NumberLocale.EN_ZA,
        help_text="Decimal and thousands separators on every page and printout. Input takes a decimal comma or "
                  "point either way.",
    )
    # A payment can never be changed, only reversed: a large one is typed twice over (docs/DATA_ENTRY.md).
    payment_confirm_amount = models.DecimalField(
        "payment confirmation amount", max_digits=14, decimal_places=2, default=Decimal("500000.00"),
        db_default=Decimal("500000.00"), validators=[MinValueValidator(Decimal("0.01"))],
        help_text="A payment above this needs a second step that repeats grower, type and amount.",
    )
    payment_max_amount = models.DecimalField(
        "largest payment", max_digits=14, decimal_places=2, default=Decimal("50000000.00"),
        db_default=Decimal("50000000.00"), validators=[MinValueValidator(Decimal("0.01"))],
        help_text="A payment above this is refused: split it, or raise this limit first.",
    )
    harvest_confirm_days = models.PositiveSmallIntegerField(
        "harvest age needing confirmation (days)", default=7, db_default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="An intake whose harvest date is more than this many days before delivery needs a confirmation.",
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
            models.CheckConstraint(condition=models.Q(mrl_gate__in=MrlGate.values), name="company_mrl_gate_valid"),
            models.CheckConstraint(
                condition=models.Q(gs1_company_prefix="") | models.Q(gs1_company_prefix__regex=r"^[0-9]{7,10}$"),
                name="company_gs1_prefix_format",
            ),
            models.CheckConstraint(
                condition=models.Q(sscc_extension_digit__lte=9), name="company_sscc_extension_digit",
            ),
            models.CheckConstraint(
                condition=models.Q(payment_confirm_amount__gt=0)
                & models.Q(payment_max_amount__gte=models.F("payment_confirm_amount")),
                name="company_payment_limits",
                violation_error_message="The largest payment cannot be below the confirmation amount.",
            ),
            models.CheckConstraint(
                condition=models.Q(harvest_confirm_days__gte=1), name="company_harvest_confirm_days_positive",
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


# --- Which company a hostname serves, cached ------------------------------------
#
# Every request asks; the answer changes only when a platform admin edits a
# company or a domain. Entries live in Redis under the public schema's prefix,
# stamped with the "hosts" generation, so any write to the companies or
# domains tables through Django (save, delete, QuerySet.update(), raw SQL;
# core/write_watch.py sees them all) makes every cached answer stale, and
# again once it commits: a suspended company's hosts answer 404 on the very
# next request. With Redis down every request asks the database, as before.


@functools.cache
def _company_fields():
    return [field.attname for field in Company._meta.concrete_fields]


def company_for_host(hostname):
    """The company serving `hostname` (active or not), or raise Domain.DoesNotExist. Call it in the public schema.

    It carries `hosts_generation`, the generation read before the answer was looked up (grants record it:
    core/fastpath/grants.py).
    """
    company, hosts_generation = _cached_company(hostname)
    if company is None:
        company = Domain.objects.select_related("tenant").get(domain=hostname).tenant
        values = [getattr(company, name) for name in _company_fields()]
        cache.set(_host_key(hostname), stamped(hosts_generation, values), TTL)
    company.hosts_generation = hosts_generation
    return company


def _cached_company(hostname):
    # The generation and the entry in one round trip: the entry carries the generation it was stored under.
    [hosts_generation], [entry] = generations_and_entries([HOSTS], [_host_key(hostname)])
    values = unstamped(entry, hosts_generation)
    if values is None:
        return None, hosts_generation
    # Plain values in the cache, a model instance here: as if read from the database.
    return Company.from_db(connection.alias, _company_fields(), values), hosts_generation


def _host_key(hostname):
    return f"host:{hostname}"


def watch_writes():
    write_watch.watch([Company._meta.db_table, Domain._meta.db_table], lambda schema_name: forget_hosts())


def forget_hosts():
    """Every cached hostname answer is stale: now, for reads in this transaction, and again once it commits.

    The second bump is the one that counts: another request may cache the
    old rows between the first bump and the commit.
    """
    def bump_public():
        with schema_context(get_public_schema_name()):
            increment(HOSTS)

    bump_public()
    transaction.on_commit(bump_public)
