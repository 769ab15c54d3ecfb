import pytest

pytestmark = pytest.mark.django_db


def test_manager_creates_and_renames_a_packhouse(acme):
    api = acme.api_client("Manager")

    made = api.post("/api/packhouses/", {"code": "PH4", "name": "Grabouw", "region": "Elgin"}, format="json")
    assert made.status_code == 201
    assert api.patch(f"/api/packhouses/{made.json()['id']}/", {"code": "PH5"}, format="json").status_code == 400
    renamed = api.patch(f"/api/packhouses/{made.json()['id']}/", {"name": "Grabouw North"}, format="json")

    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["code"]) == ("Grabouw North", "PH4")


@pytest.mark.parametrize("code", ["ph4", "P", "PH-4", "TOOLONGCODE1"])
def test_bad_codes_are_400(acme, code):
    response = acme.api_client("Manager").post("/api/packhouses/", {"code": code, "name": "X"}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["errors"]


def test_filters(acme):
    api = acme.api_client("Manager")
    api.post("/api/packhouses/", {"code": "PH1", "name": "Ceres Main", "region": "Ceres"}, format="json")
    api.post("/api/packhouses/", {"code": "PH2", "name": "Elgin", "region": "Elgin", "active": False}, format="json")

    assert [p["code"] for p in api.get("/api/packhouses/?active=true").json()["items"]] == ["PH1"]
    assert [p["code"] for p in api.get("/api/packhouses/?q=elg").json()["items"]] == ["PH2"]
    assert [p["code"] for p in api.get("/api/packhouses/?region=CERES").json()["items"]] == ["PH1"]
