"""Provisioning: the only code that creates companies and their domains."""

import re
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists, tenant_context

from accounts import services as account_services
from accounts.models import User
from accounts.roles import MANAGER
from core import audit
from core.services import apply_changes, raise_if_invalid

from .models import RESERVED_SCHEMA_NAMES, SCHEMA_NAME_RE, Company, Domain, forget_hosts

HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


@dataclass(frozen=True)
class NewCompany:
    schema: str
    name: str
    domain: str
    admin_email: str
    admin_password: str
    currency: str = settings.DEFAULT_CURRENCY
    time_zone: str = settings.DEFAULT_TIME_ZONE


def validate_new_company(new: NewCompany):
    """Every refusal, gathered before anything is created."""
    errors = {}
    if (
        not re.match(SCHEMA_NAME_RE, new.schema or "")
        or new.schema in RESERVED_SCHEMA_NAMES
        or new.schema.startswith("pg_")
    ):
        errors["schema"] = (
            f"'{new.schema}' is not a valid schema name: use 2 to 40 lower-case letters, "
            "digits or underscores, starting with a letter."
        )
    elif Company.objects.filter(schema_name=new.schema).exists() or schema_exists(new.schema):
        errors["schema"] = f"A schema named '{new.schema}' already exists."

    if not (new.name or "").strip():
        errors["name"] = "The company needs a name."

    domain = (new.domain or "").lower()
    if not HOSTNAME_RE.match(domain):
        errors["domain"] = f"'{new.domain}' is not a valid hostname."
    elif Domain.objects.filter(domain=domain).exists():
        errors["domain"] = f"The domain '{domain}' is already taken."

    try:
        validate_email(new.admin_email or "")
    except ValidationError:
        errors["admin_email"] = f"'{new.admin_email}' is not a valid email address."

    if not new.admin_password:
        errors["admin_password"] = "The first manager needs a password."
    else:
        try:
            password_validation.validate_password(
                new.admin_password, user=User(email=new.admin_email or "", full_name=new.name or ""),
            )
        except ValidationError as exc:
            errors["admin_password"] = "The password is too weak: " + " ".join(exc.messages)

    if not re.match(r"^[A-Z]{3}$", new.currency or ""):
        errors["currency"] = f"'{new.currency}' is not a three-letter currency code, e.g. ZAR."
    if new.time_zone not in zoneinfo.available_timezones():
        errors["time_zone"] = f"'{new.time_zone}' is not a known time zone, e.g. Africa/Johannesburg."

    if errors:
        raise ValidationError(errors)


def create_company(new: NewCompany, verbosity: int = 0) -> Company:
    """Create the schema, migrate it, attach the domain, add the roles and the first manager.

    Either all of it exists afterwards or none of it: a failure part-way drops
    the schema and the rows made so far.
    """
    with schema_context(get_public_schema_name()):
        return _create_company(new, verbosity)


def _create_company(new: NewCompany, verbosity: int) -> Company:
    validate_new_company(new)
    company = Company(
        schema_name=new.schema, name=new.name.strip(),
        currency=new.currency, time_zone=new.time_zone,
    )
    try:
        # Creating the schema runs its migrations; their post_migrate handler
        # (accounts.roles) creates the Clerk, Finance and Manager groups.
        company.save(verbosity=verbosity)
        with transaction.atomic():
            Domain.objects.create(domain=new.domain.lower(), tenant=company, is_primary=True)
        with tenant_context(company):
            account_services.create_user(
                email=new.admin_email, password=new.admin_password, role=MANAGER,
            )
    except BaseException:
        _remove_half_made(company)
        raise
    return company


def _remove_half_made(company: Company):
    if company.pk is None:
        return
    if connection.in_atomic_block:
        # Inside a caller's transaction, deferred foreign-key checks on the rows
        # just made would block DROP SCHEMA; run them now.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Domain.objects.filter(tenant_id=company.pk).delete()
    company.delete(force_drop=True)


def ensure_public_tenant(domain: str) -> Company:
    """The public schema's row and its host, where the platform admin lives."""
    public, _ = Company.objects.get_or_create(
        schema_name="public", defaults={"name": "FruitPAK platform"},
    )
    host, _ = Domain.objects.get_or_create(
        domain=domain.lower(), defaults={"tenant": public, "is_primary": True},
    )
    if host.tenant_id != public.pk:
        raise ValidationError({"domain": f"The domain '{host.domain}' belongs to {host.tenant}."})
    return public


# What a company's own manager may change on its Company row; the rest is the platform's.
COMPANY_SETTINGS = ("mrl_gate", "qc_required", "locale", "payment_confirm_amount", "payment_max_amount",
                    "harvest_confirm_days", "variance_threshold_amount", "variance_threshold_percent")


def update_company_settings(company, **changes):
    """Change the company's intake rules and reconciliation thresholds; the next request on any of its hosts
    applies them.

    Returns what changed, as {field: [old, new]}. The row is written in the public schema (companies live
    there) with an UPDATE of those columns only, so a platform admin's edit of another column at the same
    moment is not undone, and the cached host lookups are forgotten (tenants.models.forget_hosts).
    """
    changed = apply_changes(company, changes, COMPANY_SETTINGS)
    if not changed:
        return changed
    errors = {}
    if company.payment_max_amount < company.payment_confirm_amount:
        errors["payment_max_amount"] = (f"The largest payment ({company.payment_max_amount}) cannot be below the "
                                        f"confirmation amount ({company.payment_confirm_amount}).")
    raise_if_invalid(company, errors, exclude=[field.name for field in Company._meta.fields
                                               if field.name not in COMPANY_SETTINGS], constraints=False)
    with schema_context(get_public_schema_name()), transaction.atomic():
        Company.objects.filter(pk=company.pk).update(**{name: getattr(company, name) for name in changed})
        forget_hosts()
        # Who relaxed or tightened the MRL gate is a question an auditor asks.
        audit.event_on_commit("company.settings_changed", company=company.schema_name,
                              **{name: new for name, (_old, new) in changed.items()})
    return changed
