import pytest

from packhouses.models import Packhouse

pytestmark = pytest.mark.django_db


def test_manager_adds_and_renames_a_packhouse(acme):
    client = acme.client("Manager")

    client.post("/packhouses/new/", {"code": "PH7", "name": "Grabouw", "region": "Elgin", "active": "on"})
    with acme:
        packhouse = Packhouse.objects.get(code="PH7")
    response = client.post(f"/packhouses/{packhouse.pk}/edit/", {"name": "Grabouw North", "region": "Elgin",
                                                                  "active": "on"}, follow=True)

    assert "Packhouse PH7 saved." in response.content.decode()
    with acme:
        assert Packhouse.objects.get(pk=packhouse.pk).name == "Grabouw North"


def test_bad_code_is_refused(acme):
    response = acme.client("Manager").post("/packhouses/new/", {"code": "p-1", "name": "X"})

    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    with acme:
        assert not Packhouse.objects.exists()


def test_list_search(acme):
    client = acme.client("Manager")
    client.post("/packhouses/new/", {"code": "PH1", "name": "Ceres Main", "region": "Ceres", "active": "on"})
    client.post("/packhouses/new/", {"code": "PH2", "name": "Elgin", "region": "Elgin", "active": "on"})

    html = client.get("/packhouses/?q=ceres").content.decode()

    assert "Ceres Main" in html and ">PH2<" not in html
