"""Development profile: `make run`. Local defaults, DEBUG on unless told otherwise.

Variables already in the environment still win.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/fruitpak")
os.environ.setdefault("ALLOWED_HOSTS", ".localhost,localhost,127.0.0.1")
# http://demo.localhost:8000 has no TLS.
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# gunicorn serves `make run` directly, with no proxy in front.
os.environ.setdefault("TRUSTED_PROXY_COUNT", "0")

from .base import *  # noqa: E402,F401,F403

# Serve static files straight from the source folders; no collectstatic needed.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
