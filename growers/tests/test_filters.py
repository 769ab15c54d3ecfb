"""`active` is a boolean filter: a value that is not true or false is refused, not ignored (found by schemathesis)."""

import pytest

from growers.tests.factories import GrowerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("value", "codes"), [("true", {"GON"}), ("false", {"GOFF"}), ("", {"GON", "GOFF"}),
                                              ("True", {"GON"})])
def test_active_filters_by_true_or_false(acme, value, codes):
    with acme:
        GrowerFactory(code="GON")
        GrowerFactory(code="GOFF", active=False)

    response = acme.api_client("Clerk").get(f"/api/growers/?active={value}")

    assert response.status_code == 200
    assert {item["code"] for item in response.json()["items"]} == codes


# Django's own select reads "2" and "3" as true and false; 1 and 0 are not documented, so they are refused too.
@pytest.mark.parametrize("value", ["yes-please", "°ç´'", "maybe", "2", "3", "1", "0"])
def test_an_unknown_active_value_is_a_400_in_the_api_and_a_form_error_on_the_page(acme, value):
    api = acme.api_client("Clerk").get("/api/growers/", {"active": value})
    page = acme.client("Clerk").get("/growers/", {"active": value})

    assert api.status_code == 400
    assert api.json()["errors"] == {"active": ["Use true or false."]}
    assert page.status_code == 200
    assert "Use true or false." in page.text
