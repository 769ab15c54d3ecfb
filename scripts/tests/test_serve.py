"""scripts/serve.py's pieces that need no running server: the rendered nginx.conf and the app's environment."""

import re
import subprocess
import sys
import time

import pytest

from scripts import serve


@pytest.fixture
def layout(tmp_path):
    return serve.Layout(tmp_path / "serve")


def test_nginx_conf_is_rendered_with_every_placeholder_filled(layout):
    serve.prepare_dirs(layout)

    serve.render_nginx(layout, "127.0.0.1:8080", [8101, 8102, 8103])

    text = layout.nginx_conf.read_text()
    assert "${NGINX_" not in text
    assert re.findall(r"server 127\.0\.0\.1:(\d+) max_fails=0;", text) == ["8101", "8102", "8103"]
    assert "listen 127.0.0.1:8080 default_server" in text
    assert f"alias {serve.STATIC_ROOT}/;" in text
    assert f"pid {layout.nginx_pid};" in text
    # nginx's own variables survive the rendering.
    assert "proxy_set_header Host $host;" in text
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text


def test_the_app_gets_production_settings_and_local_values_only_where_unset(layout, monkeypatch):
    serve.prepare_dirs(layout)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/somewhere")
    monkeypatch.setenv("ALLOWED_HOSTS", ".example.test")
    for name in ("SECRET_KEY", "WEB_CONCURRENCY", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                 "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        monkeypatch.delenv(name, raising=False)

    env = serve.app_environment(layout, [8101, 8102])
    again = serve.app_environment(layout, [8101, 8102])

    assert env["DJANGO_SETTINGS_MODULE"] == "fruitpak.settings.prod"
    assert env["ALLOWED_HOSTS"] == ".example.test"
    assert env["SESSION_COOKIE_SECURE"] == env["CSRF_COOKIE_SECURE"] == "false"
    assert env["SECURE_SSL_REDIRECT"] == "false" and env["SECURE_HSTS_SECONDS"] == "0"
    # One key per serve directory, kept between starts so sessions survive a restart.
    assert len(env["SECRET_KEY"]) >= 50 and again["SECRET_KEY"] == env["SECRET_KEY"]
    # One worker per core in all, shared out among the app servers, at least one each.
    assert int(env["WEB_CONCURRENCY"]) == max(1, -(-serve.cores() // 2))


def test_without_a_database_url_it_refuses_to_start(layout, monkeypatch):
    serve.prepare_dirs(layout)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(SystemExit, match="DATABASE_URL is not set"):
        serve.app_environment(layout, [8101])


def test_a_child_that_ended_counts_as_stopped_not_as_a_zombie(layout):
    serve.prepare_dirs(layout)
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # as `run` starts the worker: never waited for
    layout.worker_pid.write_text(str(child.pid))
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    layout.nginx_pid.write_text(str(running.pid))
    try:
        for _ in range(100):
            if serve.read_pid(layout.worker_pid) is None:
                break
            time.sleep(0.05)

        assert serve.read_pid(layout.worker_pid) is None
        assert serve.read_pid(layout.nginx_pid) == running.pid
    finally:
        running.kill()
        running.wait()
