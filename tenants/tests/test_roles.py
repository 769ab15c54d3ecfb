import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def test_every_company_has_the_three_roles(acme, globex):
    for tenant in (acme, globex):
        with tenant:
            assert set(Group.objects.values_list("name", flat=True)) == {"Clerk", "Finance", "Manager"}


def test_manager_may_manage_users_and_clerk_may_not(acme):
    with acme:
        assert acme.user("Manager").has_perm("accounts.change_user")
        assert not acme.user("Clerk").has_perm("accounts.change_user")
        assert not acme.user("Finance").has_perm("accounts.view_user")


def test_roles_are_not_made_in_the_public_schema(db):
    from django.db import connection

    connection.set_schema_to_public()
    assert not Group.objects.filter(name__in=["Clerk", "Finance", "Manager"]).exists()
