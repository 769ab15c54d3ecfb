"""The benchmark's baseline middleware: never in production's stack; in the bench's, it serves only captured bodies."""

import pytest
from django.conf import settings
from django.test import Client, override_settings

BASELINE = "bench.baseline.BaselineMiddleware"


def bench_settings(directory):
    """What fruitpak.settings.bench adds to the production stack."""
    return override_settings(BENCH_BASELINE_DIR=str(directory), MIDDLEWARE=[BASELINE, *settings.MIDDLEWARE])


@pytest.fixture
def baseline_dir(tmp_path):
    (tmp_path / "growers.body").write_bytes(b'{"items": [], "total": 0}')
    (tmp_path / "growers.type").write_text("application/json")
    (tmp_path / "dashboard.body").write_bytes(b"<html>captured</html>")
    (tmp_path / "dashboard.type").write_text("text/html; charset=utf-8")
    return tmp_path


def test_production_settings_do_not_install_it():
    assert not any("baseline" in name.lower() for name in settings.MIDDLEWARE)
    assert not hasattr(settings, "BENCH_BASELINE_DIR")


@pytest.mark.django_db
def test_without_it_the_path_is_an_ordinary_unknown_page(baseline_dir):
    response = Client().get("/__baseline__/growers", HTTP_HOST="acme.localhost")

    assert response.status_code == 404
    assert b"items" not in response.content


@pytest.mark.parametrize("host", ["acme.localhost", "nobody.example"])
def test_on_it_serves_the_captured_bytes_on_any_host_without_the_database(baseline_dir, host):
    # No django_db mark: a query here would raise, so the baseline touches neither tenant nor session.
    with bench_settings(baseline_dir):
        client = Client()
        json_response = client.get("/__baseline__/growers", HTTP_HOST=host)
        html_response = client.get("/__baseline__/dashboard", HTTP_HOST=host)

    assert json_response.status_code == 200
    assert json_response.content == b'{"items": [], "total": 0}'
    assert json_response["Content-Type"] == "application/json"
    assert html_response.content == b"<html>captured</html>"
    assert html_response["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("name", ["missing", "..%2F..%2Fetc%2Fpasswd", "../growers", "GROWERS", ""])
def test_on_an_unknown_or_unsafe_name_is_404(baseline_dir, name):
    with bench_settings(baseline_dir):
        response = Client().get(f"/__baseline__/{name}", HTTP_HOST="nobody.example")

    assert response.status_code == 404
    assert b"items" not in response.content


@pytest.mark.django_db
def test_on_other_paths_go_through_the_app(baseline_dir):
    with bench_settings(baseline_dir):
        response = Client().get("/health", HTTP_HOST="acme.localhost")

    assert response.json() == {"status": "ok"}
