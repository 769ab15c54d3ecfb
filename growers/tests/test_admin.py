"""The company admin for growers: rendering, query budget, writes through the service, access."""

import pytest

from core.cache import generation
from core.tests.helpers import form_errors, queries_for
from growers import services
from growers.models import Grower

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/growers/grower/"
ADD = CHANGELIST + "add/"


def change_url(grower):
    return f"{CHANGELIST}{grower.pk}/change/"


def make_growers(tenant, count, start=0):
    with tenant:
        return [services.create_grower(code=f"G{start + n:04d}", name=f"Farm {start + n}") for n in range(count)]


def grower_form(**overrides):
    data = {"code": "G0100", "name": "Klein Karoo Fruit", "contact_name": "Anna", "email": "anna@example.com",
            "phone": "021 555 0100", "region": "Ceres", "ggn": "4049929999999", "active": "on"}
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def test_changelist_query_count_does_not_grow_with_rows(acme):
    client = acme.client("Manager")
    make_growers(acme, 3)
    client.get(CHANGELIST)  # warm per-process caches
    few = queries_for(client, CHANGELIST)

    make_growers(acme, 27, start=3)
    many = queries_for(client, CHANGELIST)

    assert many == few
    assert "Farm 29" in client.get(CHANGELIST).text


def test_search_finds_a_grower_by_name(acme):
    make_growers(acme, 3)

    page = acme.client("Manager").get(CHANGELIST, {"q": "Farm 2"})

    assert page.status_code == 200
    assert "G0002" in page.text and "G0001" not in page.text


def test_add_and_change_pages_render_for_a_manager(acme):
    [grower] = make_growers(acme, 1)
    client = acme.client("Manager")

    assert client.get(ADD).status_code == 200
    page = client.get(change_url(grower))
    assert page.status_code == 200
    assert "Farm 0" in page.text
    assert 'name="code"' not in page.text


def test_adding_goes_through_the_service(acme, django_capture_on_commit_callbacks):
    client = acme.client("Manager")
    with acme:
        before = generation("growers")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, grower_form(code=" g0100 ", email=" Anna@Example.COM "))

    assert response.status_code == 302
    with acme:
        grower = Grower.objects.get()
        # Only the service upper-cases the code, lower-cases the email and bumps the cache generation.
        assert (grower.code, grower.email, grower.ggn) == ("G0100", "anna@example.com", "4049929999999")
        assert generation("growers") == before + 1


def test_changing_goes_through_the_service_and_the_code_stays(acme):
    [grower] = make_growers(acme, 1)

    response = acme.client("Manager").post(change_url(grower), grower_form(code="HACKED", name="Renamed farm"))

    assert response.status_code == 302
    with acme:
        grower.refresh_from_db()
    assert (grower.code, grower.name, grower.region) == ("G0000", "Renamed farm", "Ceres")


@pytest.mark.parametrize("overrides, field, message", [
    ({"ggn": "123"}, "ggn", "13 digits"),
    ({"code": "G0000"}, "code", "already exists"),
    ({"code": "x"}, "code", "Use 2 to 20 capital letters"),
    ({"email": "not-an-email"}, "email", "valid email"),
])
def test_bad_input_shows_an_error_beside_the_field_and_saves_nothing(acme, overrides, field, message):
    make_growers(acme, 1)

    response = acme.client("Manager").post(ADD, grower_form(**overrides))

    assert message in " ".join(form_errors(response)[field])
    with acme:
        assert list(Grower.objects.values_list("code", flat=True)) == ["G0000"]


def test_a_ggn_taken_by_another_grower_is_refused_on_change(acme):
    first, second = make_growers(acme, 2)
    with acme:
        services.update_grower(first, ggn="4049929999999")

    response = acme.client("Manager").post(change_url(second), grower_form(name="Farm 1", ggn="4049929999999"))

    # Above the form for now: the model's conditional unique constraint names no field.
    errors = form_errors(response)
    assert "ggn" in errors or "__all__" in errors
    with acme:
        second.refresh_from_db()
    assert second.ggn == ""


def test_growers_are_not_deleted_in_the_admin(acme):
    [grower] = make_growers(acme, 1)
    client = acme.client("Manager")

    assert client.post(f"{CHANGELIST}{grower.pk}/delete/", {"post": "yes"}).status_code == 403
    with acme:
        assert Grower.objects.filter(pk=grower.pk).exists()


@pytest.mark.parametrize("role", [None, "Clerk", "Finance"])
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(acme, role):
    [grower] = make_growers(acme, 1)
    client = acme.client(role)

    for url in (CHANGELIST, ADD, change_url(grower)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert client.post(ADD, grower_form()).status_code == 302
    with acme:
        assert not Grower.objects.filter(code="G0100").exists()


def test_the_other_companys_grower_is_not_found(acme, globex):
    with globex:
        secret = services.create_grower(code="GX-1", name="Globex secret farm")
    client = acme.client("Manager")

    response = client.get(change_url(secret))

    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"] == "/admin/"
    assert "Globex secret farm" not in client.get(change_url(secret), follow=True).text
    assert client.post(change_url(secret), grower_form(name="Overwritten")).status_code in (302, 404)
    with globex:
        secret.refresh_from_db()
    assert secret.name == "Globex secret farm"
