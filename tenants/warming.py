"""Filling every active company's caches after a deploy or a Redis restart (manage.py warm_cache, and its job).

A cold cache costs the first request of each list and each dashboard its SQL; after a Redis flush at 500
companies that is a burst of slow requests. This fills what core.warmers lists, company by company:

- each registered API list page, requested through the whole middleware stack (django.test.Client: the
  WSGI handler and every middleware, over HTTPS as nginx forwards it) with a token of one active user per
  role that may see it, so the entry is the one that user's own request would have stored: the same key
  (permission scope, path, query) and the same headers. Users of one role share their pages, so one user
  per role fills them for all; the token's session is revoked straight after;
- each registered data function (the dashboard), run in the company's schema.

Nothing here writes to a company's data but the short API sessions (a row each, revoked at the end).
"""

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.test import Client
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.models import User
from accounts.roles import ROLES
from accounts.services import short_api_session
from core import warmers

from .models import Company

log = logging.getLogger(__name__)


@dataclass
class Warmed:
    companies: int = 0
    pages: int = 0
    data: int = 0
    failures: list = field(default_factory=list)
    seconds: float = 0.0


def companies(schemas=None):
    with schema_context(get_public_schema_name()):
        found = Company.objects.filter(is_active=True).exclude(schema_name=get_public_schema_name())
        if schemas:
            found = found.filter(schema_name__in=schemas)
        return list(found.order_by("schema_name"))


def warm_company(company, result):
    host = primary_host(company)
    if host is None:
        result.failures.append(f"{company.schema_name}: no domain")
        return
    with tenant_context(company):
        for fill in warmers.data().values():
            fill()
            result.data += 1
        for user in role_users():
            # The request runs inside this company's context too: TenantMiddleware sets the same schema.
            with short_api_session(user, "warm_cache") as token:
                client = Client(HTTP_HOST=host, headers={"Authorization": f"Bearer {token}"})
                for page in warmers.pages():
                    if not user.has_perm(page.permission):
                        continue
                    response = client.get(page.path, secure=True)
                    if response.status_code == 200:
                        result.pages += 1
                    else:
                        result.failures.append(f"{company.schema_name} {page.path} as {user.role}: "
                                               f"{response.status_code}")
    result.companies += 1


def role_users():
    """One active user per role, strongest role first; a role nobody holds has no pages to fill."""
    users = []
    for role in ROLES:
        user = User.objects.filter(is_active=True, groups__name=role).order_by("pk").first()
        if user is not None:
            users.append(user)
    return users


def primary_host(company):
    with schema_context(get_public_schema_name()):
        domain = company.domains.order_by("-is_primary", "pk").first()
    return domain.domain if domain else None


def warm(schemas=None, progress=None):
    """Warm every active company (or those named); `progress` wraps the list of companies (a tqdm bar)."""
    started = time.perf_counter()
    result = Warmed()
    found = companies(schemas)
    for company in (progress(found) if progress else found):
        try:
            warm_company(company, result)
        except Exception as exc:  # one company's failure must not leave the others cold
            log.exception("warm_cache: %s failed", company.schema_name)
            result.failures.append(f"{company.schema_name}: {exc!r}")
    result.seconds = time.perf_counter() - started
    if settings.CACHES["default"]["BACKEND"] != "django_redis.cache.RedisCache":
        log.warning("warm_cache: no Redis configured; nothing was kept")
    return result
