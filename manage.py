#!/usr/bin/env python
"""Django's command line, on the development profile, with the services `make run` chose.

The cookiecutter-django convention: manage.py defaults to local settings, wsgi.py (gunicorn) to
production. DATABASE_URL and REDIS_URL come from .var/services.env, which `make run` and
`make test` write (scripts/services.py), so every manage.py command the README prints works after
`make run`. Variables already in the environment win over both, so
`DJANGO_SETTINGS_MODULE=fruitpak.settings.prod manage.py ...` runs a command in production.
"""

import os
import shlex
import sys
from pathlib import Path

SERVICES_ENV = Path(__file__).resolve().parent / ".var" / "services.env"


def load_services_env(path=SERVICES_ENV):
    """The KEY=value lines scripts/services.py wrote (values shell-quoted), for variables not set already."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        key, equals, value = line.partition("=")
        if equals and key.strip() and not key.lstrip().startswith("#"):
            os.environ.setdefault(key.strip(), "".join(shlex.split(value)))


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fruitpak.settings.dev")
    load_services_env()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
