"""A list's filter errors name the field in words on the page, and by its parameter in the API's 400."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_page_names_the_field_by_its_label(acme):
    response = acme.client("Clerk").get("/batches/?intake_date_after=2026-13-45")

    errors = response.content.decode().split('class="form-errors"', 1)[1].split("</div>", 1)[0]
    assert "Intake date: Enter a valid date" in errors
    assert "intake_date" not in errors


def test_the_api_still_names_the_parameter(acme):
    response = acme.api_client("Clerk").get("/api/batches/?intake_date_after=2026-13-45")

    assert response.status_code == 400
    assert "intake_date" in response.json()["errors"]
