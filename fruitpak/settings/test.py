"""Test profile: pytest. Real PostgreSQL and Redis, local defaults."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-key-long-enough-for-hs256-signing")
os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/fruitpak")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("ALLOWED_HOSTS", ".localhost,localhost")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
# The test client speaks plain HTTP unless a test asks for secure=True.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# The suite logs in and calls the API far more often than any client; tests of
# throttling lower the rates themselves (accounts/tests/test_throttling.py).
os.environ.setdefault("API_THROTTLE_ANON", "100000/minute")
os.environ.setdefault("API_THROTTLE_USER", "100000/minute")
os.environ.setdefault("LOGIN_THROTTLE_RATE", "100000/minute")
# The test client has no proxy in front.
os.environ.setdefault("TRUSTED_PROXY_COUNT", "0")

from .base import *  # noqa: E402,F401,F403

DEBUG = False
# Hashing with PBKDF2 dominates a suite that creates many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Each test worker gets its own Redis key space (pytest-xdist sets this).
CACHES["default"]["KEY_PREFIX"] = "test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
