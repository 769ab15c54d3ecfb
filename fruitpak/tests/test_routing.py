import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_each_host_shows_its_own_company(acme, globex):
    acme_page = acme.client("Clerk").get("/")
    globex_page = globex.client("Clerk").get("/")

    assert acme_page.status_code == 200
    assert "Acme Fruit" in acme_page.text and "Globex" not in acme_page.text
    assert globex_page.status_code == 200
    assert "Globex Orchards" in globex_page.text and "Acme" not in globex_page.text


def test_login_page_names_the_company_of_the_host(acme, globex):
    assert "Log in to Acme Fruit" in acme.client().get("/login/").text
    assert "Log in to Globex Orchards" in globex.client().get("/login/").text


@pytest.mark.parametrize("host", ["nobody.localhost", "evil.example", "acme.localhost.evil.example"])
def test_unknown_host_gets_a_clean_404(db, client, host):
    response = client.get("/", HTTP_HOST=host)

    assert response.status_code == 404
    assert "No company here" in response.text
    assert "Traceback" not in response.text and "Django" not in response.text


def test_unknown_host_admin_is_404_too(db, client):
    assert client.get("/admin/", HTTP_HOST="nobody.localhost").status_code == 404


def test_public_host_serves_the_platform_admin(db, client):
    response = client.get("/admin/login/", HTTP_HOST="localhost")

    assert response.status_code == 200
    assert "FruitPAK platform" in response.text


def test_public_host_has_no_company_pages(db, client):
    assert client.get("/login/", HTTP_HOST="localhost").status_code == 404


def test_suspended_company_host_answers_404(acme):
    acme.company.is_active = False
    acme.company.save()
    connection.set_schema_to_public()

    response = acme.client().get("/login/")

    assert response.status_code == 404
    assert "No company here" in response.text


def test_tenant_admin_lists_its_own_users_only(acme, globex):
    response = acme.client("Manager").get("/admin/accounts/user/")

    assert response.status_code == 200
    assert "clerk@acme.test" in response.text
    assert "globex.test" not in response.text


def test_tenant_admin_does_not_offer_companies(acme):
    assert acme.client("Manager").get("/admin/tenants/company/").status_code == 404


def test_clerk_may_not_use_the_tenant_admin(acme):
    response = acme.client("Clerk").get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_unknown_host_is_never_a_debug_page_even_with_debug_on(db, client, settings):
    settings.DEBUG = True

    response = client.get("/anything", HTTP_HOST="nobody.localhost")

    assert response.status_code == 404
    assert "No company here" in response.text
    assert "URLconf" not in response.text and "Traceback" not in response.text
