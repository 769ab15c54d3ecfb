"""The company admin for packhouses: rendering, query budget, writes through the service, access."""

import pytest

from core.cache import generation
from core.tests.helpers import form_errors, queries_for
from packhouses import services
from packhouses.models import Packhouse

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/packhouses/packhouse/"
ADD = CHANGELIST + "add/"


def change_url(packhouse):
    return f"{CHANGELIST}{packhouse.pk}/change/"


def make_packhouses(tenant, count, start=0):
    with tenant:
        return [services.create_packhouse(code=f"PH{start + n}", name=f"Shed {start + n}") for n in range(count)]


def test_changelist_query_count_does_not_grow_with_rows(acme):
    client = acme.client("Manager")
    make_packhouses(acme, 3)
    client.get(CHANGELIST)  # warm per-process caches (content types, templates)
    few = queries_for(client, CHANGELIST)

    make_packhouses(acme, 27, start=3)
    many = queries_for(client, CHANGELIST)

    assert many == few
    assert "Shed 29" in client.get(CHANGELIST).text


def test_add_and_change_pages_render_for_a_manager(acme):
    [packhouse] = make_packhouses(acme, 1)
    client = acme.client("Manager")

    assert client.get(ADD).status_code == 200
    page = client.get(change_url(packhouse))
    assert page.status_code == 200
    assert "Shed 0" in page.text
    # The code is shown, not offered for editing.
    assert 'name="code"' not in page.text


def test_adding_goes_through_the_service(acme, django_capture_on_commit_callbacks):
    client = acme.client("Manager")
    with acme:
        before = generation("packhouses")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, {"code": " ph9 ", "name": " North shed ", "region": "Ceres", "active": "on"})

    assert response.status_code == 302
    with acme:
        packhouse = Packhouse.objects.get()
        # The service normalises the code and bumps the list cache's generation.
        assert (packhouse.code, packhouse.name, packhouse.region, packhouse.active) == (
            "PH9", "North shed", "Ceres", True,
        )
        assert generation("packhouses") == before + 1


def test_changing_goes_through_the_service_and_the_code_stays(acme):
    [packhouse] = make_packhouses(acme, 1)

    response = acme.client("Manager").post(change_url(packhouse), {"code": "ZZ9", "name": "Renamed", "region": "Elgin"})

    assert response.status_code == 302
    with acme:
        packhouse.refresh_from_db()
    assert (packhouse.code, packhouse.name, packhouse.region, packhouse.active) == ("PH0", "Renamed", "Elgin", False)


@pytest.mark.parametrize("code, message", [
    ("P", "Use 2 to 10 capital letters or digits"),
    ("PH0", "already exists"),
])
def test_bad_input_shows_an_error_beside_the_field_and_saves_nothing(acme, code, message):
    make_packhouses(acme, 1)

    response = acme.client("Manager").post(ADD, {"code": code, "name": "Another", "active": "on"})

    assert message in " ".join(form_errors(response)["code"])
    with acme:
        assert list(Packhouse.objects.values_list("code", flat=True)) == ["PH0"]


def test_a_missing_name_is_a_form_error_too(acme):
    response = acme.client("Manager").post(ADD, {"code": "PH5", "name": ""})

    assert "name" in form_errors(response)
    with acme:
        assert not Packhouse.objects.exists()


def test_packhouses_are_not_deleted_in_the_admin(acme):
    [packhouse] = make_packhouses(acme, 1)
    client = acme.client("Manager")

    assert client.get(f"{CHANGELIST}{packhouse.pk}/delete/").status_code == 403
    assert client.post(f"{CHANGELIST}{packhouse.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "/delete/" not in client.get(change_url(packhouse)).text
    with acme:
        assert Packhouse.objects.filter(pk=packhouse.pk).exists()


@pytest.mark.parametrize("role", [None, "Clerk", "Finance"])
def test_non_staff_and_anonymous_are_sent_to_the_admin_login(acme, role):
    [packhouse] = make_packhouses(acme, 1)
    client = acme.client(role)

    for url in (CHANGELIST, ADD, change_url(packhouse)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert client.post(ADD, {"code": "PH7", "name": "Sneaky"}).status_code == 302
    with acme:
        assert not Packhouse.objects.filter(code="PH7").exists()


def test_the_other_companys_packhouse_is_not_found(acme, globex):
    with globex:
        secret = services.create_packhouse(code="GX1", name="Globex secret shed")
    client = acme.client("Manager")

    response = client.get(change_url(secret))

    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"] == "/admin/"
    assert "Globex secret shed" not in client.get(change_url(secret), follow=True).text
    assert "Globex secret shed" not in client.get(CHANGELIST).text


def test_the_other_companys_manager_is_a_stranger_here(acme, globex):
    response = globex.client("Manager").get(CHANGELIST, HTTP_HOST=acme.host)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_keeps_to_the_roles_permissions(acme):
    """A clerk given staff status sees packhouses (view) but may not add or change them."""
    [packhouse] = make_packhouses(acme, 1)
    with acme:
        clerk = acme.user("Clerk")
        clerk.is_staff = True
        clerk.save(update_fields=["is_staff"])
    client = acme.client("Clerk")

    assert client.get(CHANGELIST).status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {"code": "PH7", "name": "Sneaky"}).status_code == 403
    assert client.post(change_url(packhouse), {"name": "Renamed"}).status_code == 403
    with acme:
        packhouse.refresh_from_db()
        assert packhouse.name == "Shed 0" and not Packhouse.objects.filter(code="PH7").exists()


def test_the_admin_index_lists_every_domain_model_but_the_internal_ones(acme):
    page = acme.client("Manager").get("/admin/")

    assert page.status_code == 200
    for url in ("/admin/packhouses/packhouse/", "/admin/growers/grower/", "/admin/batches/batch/",
                "/admin/payments/priceagreement/", "/admin/payments/growerpayment/"):
        assert f'href="{url}"' in page.text
    assert "batchcodecounter" not in page.text and "batchhistory" not in page.text


def test_adding_from_a_popup_is_kept(acme):
    """A popup's success page is a 200, not a redirect: the write must still commit, not roll back."""
    response = acme.client("Manager").post(ADD + "?_popup=1", {"code": "PH8", "name": "Popup shed", "_popup": "1"})

    assert response.status_code == 200
    assert "popup_response" in " ".join(t.name for t in response.templates if t.name)
    with acme:
        assert Packhouse.objects.filter(code="PH8").exists()
