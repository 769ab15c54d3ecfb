"""Browser tests: Playwright driving Debian's chromium against a real gunicorn (see conftest.py)."""
