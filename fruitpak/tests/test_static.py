"""Static files in production: compressed, with hashed names, served by WhiteNoise."""

import pytest
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collected_files_are_hashed_and_compressed(tmp_path, acme):
    # Only the project's own files: compressing the admin's and Swagger UI's takes a minute.
    only_ours = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=PRODUCTION_STORAGES, STATICFILES_FINDERS=only_ours):
        call_command("collectstatic", interactive=False, verbosity=0)
        css = sorted(p.name for p in (tmp_path / "css").iterdir() if p.name.startswith("app."))
        with acme:
            from django.template.loader import render_to_string

            page = render_to_string("errors/standalone.html")

    hashed = [name for name in css if name.endswith(".css") and name != "app.css"]
    assert len(hashed) == 1
    assert hashed[0] + ".gz" in css and hashed[0] + ".br" in css
    assert f"/static/css/{hashed[0]}" in page


def test_csrf_failure_is_our_page(acme):
    from django.test import Client

    client = Client(HTTP_HOST=acme.host, enforce_csrf_checks=True)

    response = client.post("/login/", {"username": "clerk@acme.test", "password": "x"})

    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
