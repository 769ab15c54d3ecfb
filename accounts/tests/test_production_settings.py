"""Production settings: `check --deploy` is clean, the security headers and cookies are right."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
from django.core.management import call_command
django.setup()
call_command("check", deploy=True, fail_level="WARNING")
print(json.dumps({name: str(getattr(settings, name, None)) for name in [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_DOMAIN", "CSRF_COOKIE_DOMAIN",
    "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS", "AXES_HANDLER",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT", "CONTENT_SECURITY_POLICY",
]}))
"""
# The settings a plain-HTTP run may turn off, and nothing else (`make run`, `make serve`, the browser tests).
PLAIN_HTTP = {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"}
DEV_PROBE = PROBE.replace('call_command("check", deploy=True, fail_level="WARNING")\n', "")


def production_env(**changes):
    """What an operator sets (README's configuration table), and nothing from the test profile."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "DEBUG", "SECURE_", "SESSION_", "CSRF_", "API_THROTTLE", "TRUSTED_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="fruitpak.settings.prod",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgresql://fruitpak:secret@db.internal:5432/fruitpak",
        REDIS_URL="redis://redis.internal:6379/0",
        ALLOWED_HOSTS=".fruitpak.example",
        CSRF_TRUSTED_ORIGINS="https://*.fruitpak.example",
    )
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def run_probe(env, probe=PROBE):
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def settings_of(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_zero_warnings():
    """As shipped: the operator sets no security variable at all (SECURE_SSL_REDIRECT included)."""
    env = production_env()
    assert not [name for name in env if name.startswith(("SECURE_", "SESSION_", "CSRF_COOKIE"))]
    result = run_probe(env)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stderr + result.stdout
    settings = json.loads(result.stdout.strip().splitlines()[-1])
    assert settings["DEBUG"] == "False"
    assert settings["SESSION_COOKIE_SECURE"] == settings["CSRF_COOKIE_SECURE"] == "True"
    # Host-only cookies: one company per host.
    assert settings["SESSION_COOKIE_DOMAIN"] == settings["CSRF_COOKIE_DOMAIN"] == "None"
    assert settings["SESSION_COOKIE_SAMESITE"] == settings["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert settings["SECURE_HSTS_SECONDS"] == "31536000"
    assert settings["SECURE_SSL_REDIRECT"] == "True"
    assert settings["AXES_HANDLER"] == "accounts.lockout.LockoutHandler"  # axes's database handler, own limits


def test_the_plain_http_profiles_turn_off_only_what_plain_http_needs(tmp_path, monkeypatch):
    """The dev profile (`make run`, the browser tests' gunicorn) and scripts/serve.py's environment (`make serve`)
    differ from production in the settings TLS needs, and in nothing else the probe reads."""
    from scripts import serve

    production = settings_of(run_probe(production_env()))
    dev_env = production_env(DJANGO_SETTINGS_MODULE="fruitpak.settings.dev", DATABASE_URL=None, REDIS_URL=None,
                             ALLOWED_HOSTS=None, CSRF_TRUSTED_ORIGINS=None, SECRET_KEY=None)
    dev = settings_of(run_probe(dev_env, DEV_PROBE))
    for name in [key for key in os.environ if key.startswith(("SECURE_", "SESSION_", "CSRF_COOKIE", "DJANGO_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/nowhere")
    layout = serve.Layout(tmp_path)
    serve.prepare_dirs(layout)
    served = settings_of(run_probe(production_env(**{
        name: value for name, value in serve.app_environment(layout, [8101]).items() if name in PLAIN_HTTP
    }), DEV_PROBE))

    for profile in (dev, served):
        differs = {name for name in production if profile[name] != production[name]}
        assert differs <= PLAIN_HTTP | {"DEBUG"}, differs
        assert profile["SECURE_SSL_REDIRECT"] == profile["SESSION_COOKIE_SECURE"] == "False"
        assert profile["SECURE_HSTS_SECONDS"] == "0"
    assert dev["DEBUG"] == "True" and served["DEBUG"] == "False"


@pytest.mark.django_db
def test_behind_nginx_plain_http_is_redirected_but_health_is_not(acme, client):
    with override_settings(SECURE_SSL_REDIRECT=True):
        page = client.get("/login/", HTTP_HOST=acme.host)
        proxied = client.get("/login/", HTTP_HOST=acme.host, HTTP_X_FORWARDED_PROTO="https")
        health = client.get("/health", HTTP_HOST="127.0.0.1")
        ready = client.get("/health/ready", HTTP_HOST="127.0.0.1")

    assert page.status_code == 301 and page["Location"] == f"https://{acme.host}/login/"
    assert proxied.status_code == 200  # nginx says the client came over TLS (nginx.conf: X-Forwarded-Proto)
    assert health.status_code == 200 and ready.status_code == 200


# --- Headers and cookies, as the test profile serves them over HTTPS -----------------

PROD_LIKE = {"SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True}


def parse_csp(header):
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


def assert_security_headers(response):
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    csp = parse_csp(response["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "path"),
    [(None, "/login/"), ("Manager", "/"), ("Manager", "/admin/"), ("Clerk", "/payments/"), (None, "/nowhere/")],
)
def test_pages_carry_the_security_headers(acme, role, path):
    with override_settings(**PROD_LIKE):
        response = acme.client(role).get(path, secure=True)

    assert response.status_code in (200, 403, 404)
    assert_security_headers(response)


@pytest.mark.django_db
def test_the_api_carries_the_security_headers(acme):
    with override_settings(**PROD_LIKE):
        client = acme.api_client("Clerk")
        response = client.get("/api/growers/", secure=True)

    assert response.status_code == 200
    assert_security_headers(response)
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_login_cookies_are_secure_host_only_and_same_site(acme):
    client = acme.client()
    client.get("/login/", secure=True)
    response = client.post("/login/", {"username": "clerk@acme.test", "password": PASSWORD}, secure=True)

    assert response.status_code == 302
    for name in ("sessionid", "csrftoken"):
        cookie = response.cookies[name]
        assert cookie["secure"] is True
        assert cookie["domain"] == ""
        assert cookie["samesite"] == "Lax"
    assert response.cookies["sessionid"]["httponly"] is True
