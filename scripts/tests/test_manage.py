"""manage.py runs the README's commands right after `make run`: development profile, .var/services.env's services."""

import os
import subprocess
import sys
from pathlib import Path

import manage

ROOT = Path(__file__).resolve().parents[2]


def test_services_env_fills_what_the_environment_does_not_set(tmp_path, monkeypatch):
    env_file = tmp_path / "services.env"
    env_file.write_text("DATABASE_URL='postgresql://postgres@/fruitpak?host=/x/.var/pg'\nREDIS_URL=''\n"
                        "FRUITPAK_SET_ALREADY=from-file\n")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("FRUITPAK_SET_ALREADY", "from-environment")

    manage.load_services_env(env_file)

    assert os.environ["DATABASE_URL"] == "postgresql://postgres@/fruitpak?host=/x/.var/pg"
    assert os.environ["REDIS_URL"] == ""
    assert os.environ["FRUITPAK_SET_ALREADY"] == "from-environment"


def test_a_missing_services_env_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    manage.load_services_env(tmp_path / "absent.env")

    assert "DATABASE_URL" not in os.environ


def test_a_readme_command_works_with_nothing_but_a_shell_environment():
    """As a new user types it after `make run`: no DJANGO_SETTINGS_MODULE, SECRET_KEY or DATABASE_URL exported."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}

    result = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                             "from django.conf import settings; print(settings.SETTINGS_MODULE)"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("fruitpak.settings.dev")
    assert "Traceback" not in result.stderr
