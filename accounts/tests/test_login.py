import pytest

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, email, password=PASSWORD):
    return client.post("/login/", {"username": email, "password": password})


@pytest.mark.parametrize("role", ["Clerk", "Finance", "Manager"])
def test_login_leads_home_showing_company_and_role(acme, role):
    client = acme.client()

    response = log_in(client, f"{role.lower()}@acme.test")

    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Acme Fruit" in home.text
    assert f'data-testid="role">{role}<' in home.text


def test_email_is_case_insensitive(acme):
    client = acme.client()

    assert log_in(client, "CLERK@Acme.Test").status_code == 302


def test_wrong_password_shows_an_error_and_logs_nobody_in(acme):
    client = acme.client()

    response = log_in(client, "clerk@acme.test", "not-the-password")

    assert response.status_code == 200
    assert "Please enter a correct" in response.text
    assert client.get("/").status_code == 302


def test_acme_user_cannot_log_in_on_globex_host(globex):
    client = globex.client()

    response = log_in(client, "clerk@acme.test")

    assert response.status_code == 200
    assert "Please enter a correct" in response.text
    assert client.get("/").status_code == 302


def test_session_cookie_from_one_host_means_nothing_on_the_other(acme, globex):
    acme_client = acme.client("Manager")
    assert acme_client.get("/").status_code == 200

    # The same cookie jar, sent to globex's host.
    response = acme_client.get("/", HTTP_HOST=globex.host)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_anonymous_is_sent_to_login(acme):
    response = acme.client().get("/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_logout_ends_the_session(acme):
    client = acme.client("Clerk")
    assert client.get("/").status_code == 200

    response = client.post("/logout/")

    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_logout_by_get_is_refused(acme):
    client = acme.client("Clerk")

    assert client.get("/logout/").status_code == 405
    assert client.get("/").status_code == 200


def test_login_rotates_the_session_key(acme):
    client = acme.client()
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session-key"

    log_in(client, "clerk@acme.test")

    assert client.cookies["sessionid"].value != "attacker-chosen-session-key"


def test_deactivated_user_cannot_log_in(acme):
    with acme:
        user = acme.user("Clerk")
        user.is_active = False
        user.save()
    client = acme.client()

    response = log_in(client, "clerk@acme.test")

    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_api_root_names_company_and_user(acme):
    response = acme.api_client("Finance").get("/api/")

    assert response.status_code == 200
    assert response.json()["company"] == {"name": "Acme Fruit", "schema": "acme"}
    assert response.json()["user"] == {"email": "finance@acme.test", "role": "Finance"}
    assert set(response.json()["endpoints"]) == {
        "grower", "packhouse", "batch", "payment", "price", "season", "reconciliation", "intake_daily",
    }


def test_api_refuses_anonymous_with_json(acme):
    response = acme.api_client().get("/api/")

    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"


def test_api_session_of_other_company_is_refused(acme, globex):
    client = globex.api_client("Manager")

    response = client.get("/api/", HTTP_HOST=acme.host)

    assert response.status_code in (401, 403)
    assert "Acme" not in response.text
