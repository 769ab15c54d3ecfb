"""The private-server path of `make run EMBEDDED=1`, run for real so that it cannot rot."""

import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def read_env(path):
    return {key: shlex.split(value)[0] if value else "" for key, _, value in
            (line.partition("=") for line in path.read_text().splitlines())}


def services(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED")}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "services.py"), *args],
        env={**clean, **(env or {})}, capture_output=True, text=True, timeout=180, check=True,
    )


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED")}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env={**clean, **env}, cwd=ROOT,
        capture_output=True, text=True, timeout=300, check=True,
    )


def redis_ping(unix_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(unix_path)
        sock.sendall(b"PING\r\n")
        return sock.recv(16)


def test_embedded_starts_private_postgres_and_redis(tmp_path):
    var = tmp_path / "var"
    try:
        result = services("up", "--embedded", "--var-dir", str(var))
        env = read_env(var / "services.env")

        assert "private server" in result.stderr
        assert "127.0.0.1:5432" not in env["DATABASE_URL"]
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == "fruitpak"

        # The private server can hold a real company: migrations need btree_gist, for one.
        django_env = {**env, "DJANGO_SETTINGS_MODULE": "fruitpak.settings.dev",
                      "FRUITPAK_ADMIN_PASSWORD": "a-long-enough-passphrase"}
        manage("migrate_schemas", "--executor=standard", "-v", "0", env=django_env)
        made = manage("create_company", "--schema", "embedded", "--name", "Embedded Fruit",
                      "--domain", "embedded.localhost", "--admin-email", "boss@embedded.test", env=django_env)
        assert "Created Embedded Fruit" in made.stdout

        if shutil.which("redis-server"):
            assert env["REDIS_URL"].startswith("unix://")
            assert redis_ping(env["REDIS_URL"].removeprefix("unix://").split("?")[0]) == b"+PONG\r\n"
        else:
            assert env["REDIS_URL"] == ""
            assert "UNCACHED" in result.stderr

        # Running it again reuses what is there.
        services("up", "--embedded", "--var-dir", str(var))
        assert read_env(var / "services.env") == env
    finally:
        services("down", "--var-dir", str(var))

    assert not (var / "pg" / "postmaster.pid").exists()


def test_environment_urls_win(tmp_path):
    var = tmp_path / "var"
    services("up", "--embedded", "--var-dir", str(var),
             env={"DATABASE_URL": "postgresql://u@db.example/x", "REDIS_URL": ""})

    assert read_env(var / "services.env") == {"DATABASE_URL": "postgresql://u@db.example/x", "REDIS_URL": ""}
    assert not (var / "pg").exists()
