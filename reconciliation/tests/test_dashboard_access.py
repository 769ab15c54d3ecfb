"""The dashboard shows each section only to a role its API twin would answer (issue 14, item 5).

A user without a role got today's intake, the status counts and the top growers by name and kg,
while /api/intake/daily/ refused the same user with 403.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts.models import User
from batches.tests.factories import BatchFactory
from reconciliation.services import refresh_intake_view

pytestmark = pytest.mark.django_db

SECTIONS = {
    "today": 'data-testid="today-batches"',
    "statuses": 'data-testid="statuses"',
    "chart": 'id="chart-title"',
    "top_growers": 'data-testid="top-growers"',
    "reconciliation": 'data-testid="flagged"',
}


@pytest.fixture
def intake(acme, django_capture_on_commit_callbacks):
    with acme, django_capture_on_commit_callbacks(execute=True):
        batch = BatchFactory()
        refresh_intake_view()
    return batch


def logged_in(acme, user):
    client = Client(HTTP_HOST=acme.host)
    with acme:
        client.force_login(user)
    return client


def user_with(acme, *permissions):
    """A user whose only group holds exactly these permissions (none: a user without a role)."""
    with acme:
        user = User.objects.create_user(email=f"someone-{len(permissions)}@acme.test", password="x" * 12)
        if permissions:
            group = Group.objects.create(name="Custom")
            for name in permissions:
                app_label, codename = name.split(".")
                group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            user.groups.add(group)
    return user


@pytest.mark.parametrize(("role", "visible"), [
    ("Clerk", {"today", "statuses", "chart", "top_growers"}),
    ("Finance", set(SECTIONS)),
    ("Manager", set(SECTIONS)),
])
def test_each_role_sees_the_sections_its_api_twins_answer(acme, intake, role, visible):
    html = acme.client(role).get("/").content.decode()

    assert {name for name, marker in SECTIONS.items() if marker in html} == visible
    assert 'data-testid="no-access"' not in html
    assert intake.grower.name in html


def test_a_user_without_a_role_sees_no_company_data(acme, intake):
    user = user_with(acme)
    client = logged_in(acme, user)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="no-access"' in html and "No access yet" in html
    assert not [name for name, marker in SECTIONS.items() if marker in html]
    assert intake.grower.name not in html and intake.grower.code not in html
    # The API twin agrees: nothing for this user there either.
    assert client.get("/api/intake/daily/").status_code == 403


def test_a_role_without_batch_permissions_sees_no_intake(acme, intake):
    client = logged_in(acme, user_with(acme, "growers.view_grower"))

    html = client.get("/").content.decode()

    assert not [name for name, marker in SECTIONS.items() if marker in html]
    assert intake.grower.name not in html
    assert client.get("/api/intake/daily/").status_code == 403


def test_batches_without_growers_shows_intake_but_no_grower_names(acme, intake):
    client = logged_in(acme, user_with(acme, "batches.view_batch"))

    html = client.get("/").content.decode()

    assert {name for name, marker in SECTIONS.items() if marker in html} == {"today", "statuses", "chart"}
    assert intake.grower.name not in html
