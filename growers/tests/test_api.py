import pytest

from growers.models import Grower

pytestmark = pytest.mark.django_db


def test_manager_creates_and_edits_a_grower(acme):
    api = acme.api_client("Manager")

    made = api.post("/api/growers/", {"code": "G0100", "name": "Oak Valley", "ggn": "4049929000001",
                                      "email": "Office@OakValley.example", "region": "Elgin"}, format="json")
    assert made.status_code == 201, made.content
    grower = made.json()
    assert grower["email"] == "office@oakvalley.example"

    refused = api.patch(f"/api/growers/{grower['id']}/", {"active": False, "code": "HIJACK"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["code"]

    edited = api.patch(f"/api/growers/{grower['id']}/", {"active": False}, format="json")
    assert edited.status_code == 200
    assert (edited.json()["active"], edited.json()["code"]) == (False, "G0100")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "g 1", "name": "Bad code"}, "code"),
        ({"code": "G0001", "name": ""}, "name"),
        ({"code": "G0001", "name": "Farm", "ggn": "123"}, "ggn"),
        ({"code": "G0001", "name": "Farm", "email": "not-an-email"}, "email"),
        ({"code": "G0001", "name": "N" * 201}, "name"),
    ],
)
def test_bad_growers_are_400(acme, body, field):
    response = acme.api_client("Manager").post("/api/growers/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    with acme:
        assert not Grower.objects.exists()


def test_codes_and_ggns_are_unique(acme):
    api = acme.api_client("Manager")
    api.post("/api/growers/", {"code": "G0001", "name": "One", "ggn": "4049929000001"}, format="json")

    same_code = api.post("/api/growers/", {"code": "G0001", "name": "Two"}, format="json")
    same_ggn = api.post("/api/growers/", {"code": "G0002", "name": "Two", "ggn": "4049929000001"}, format="json")

    assert same_code.status_code == 400 and "code" in same_code.json()["errors"]
    assert same_ggn.status_code == 400 and "GGN" in same_ggn.json()["errors"]["ggn"][0]
