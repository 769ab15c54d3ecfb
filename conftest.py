"""Shared test fixtures.

Once per test session, the test database gets the public tenant and two
companies, acme and globex, each with a user of every role (healthchecks'
alice/bob/charlie pattern, per company). Every test then runs in a
transaction that is rolled back.
"""

import copy
import uuid
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery"
PUBLIC_HOST = "localhost"
COMPANIES = {
    "acme": ("Acme Fruit", "acme.localhost"),
    "globex": ("Globex Orchards", "globex.localhost"),
}


def role_email(schema, role):
    return f"{role.lower()}@{schema}.test"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from accounts import services as account_services
    from accounts.roles import ROLES
    from tenants.services import NewCompany, create_company, ensure_public_tenant

    with django_db_blocker.unblock():
        ensure_public_tenant(PUBLIC_HOST)
        for schema, (name, domain) in COMPANIES.items():
            company = create_company(NewCompany(
                schema=schema, name=name, domain=domain,
                admin_email=role_email(schema, "Manager"), admin_password=PASSWORD,
            ))
            with tenant_context(company):
                for role in ROLES:
                    account_services.ensure_user(email=role_email(schema, role), password=PASSWORD, role=role)
                add_calendar_seasons(2020, 2030)
        connection.set_schema_to_public()


def add_calendar_seasons(first, last):
    """A season per calendar year, beside the current year's one that provisioning made."""
    import datetime as dt

    from seasons import services as season_services
    from seasons.models import Season

    for year in range(first, last + 1):
        if not Season.objects.filter(code=str(year)).exists():
            season_services.create_season(code=str(year), name=f"Season {year}", start_date=dt.date(year, 1, 1),
                                          end_date=dt.date(year, 12, 31))


@dataclass
class Tenant:
    """A company as tests see it: its row, its host, and its users by role."""

    company: object
    host: str

    @property
    def schema(self):
        return self.company.schema_name

    def user(self, role):
        from accounts.models import User

        with tenant_context(self.company):
            return User.objects.get(email=role_email(self.schema, role))

    def client(self, role=None):
        """A browser-like client on this company's host, logged in as `role` if given."""
        client = Client(HTTP_HOST=self.host)
        if role:
            with tenant_context(self.company):
                client.force_login(self.user(role))
        return client

    def tokens(self, role):
        """A token pair for `role`, from this company's real login endpoint."""
        response = APIClient(HTTP_HOST=self.host).post(
            "/api/auth/login", {"email": role_email(self.schema, role), "password": PASSWORD}, format="json",
        )
        assert response.status_code == 200, response.content
        return response.json()

    def api_client(self, role=None):
        """An API client on this company's host, with a Bearer token of `role` if given."""
        client = APIClient(HTTP_HOST=self.host)
        if role:
            client.credentials(HTTP_AUTHORIZATION="Bearer " + self.tokens(role)["access_token"])
        return client

    def __enter__(self):
        self._context = tenant_context(self.company)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """A key prefix of this test's own: Redis outlives the rolled-back transaction, so a page
    cached by one test would otherwise be served to the next, whose database no longer has it."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"{caches['default'].get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


def _tenant(schema):
    from tenants.models import Company

    connection.set_schema_to_public()
    return Tenant(company=Company.objects.get(schema_name=schema), host=COMPANIES[schema][1])


@pytest.fixture
def acme(db):
    return _tenant("acme")


@pytest.fixture
def globex(db):
    return _tenant("globex")


@pytest.fixture
def outsider(globex):
    """A user of the other company (globex) when the test is about acme."""
    return globex.user("Manager")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the block as if it committed: its on_commit callbacks (the generation bumps) run at the end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def batch_with_payment(acme):
    """acme with one batch and an advance paid to its grower: something on every page that lists things."""
    from decimal import Decimal

    from batches.tests.factories import BatchFactory
    from core.tenancy import company_today
    from payments import services as payment_services

    with acme:
        batch = BatchFactory()
        payment_services.record_payment(grower=batch.grower, payment_type="advance", amount=Decimal("10"),
                                        reference="R-1", paid_date=company_today())
    return batch
