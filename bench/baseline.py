"""The benchmark's baseline: captured response bodies served by a bare Django middleware.

bench/web.py compares each scenario with "the same bytes through the same gunicorn and nginx,
with none of the app's work". It captures each scenario's response body into BENCH_BASELINE_DIR
(`<name>.body`, plus `<name>.type` holding the Content-Type) and loads /__baseline__/<name>.

Only the bench's settings (fruitpak.settings.bench) install it, first in MIDDLEWARE, so it answers
before the host, the session or the database is looked at: the baseline is Django's and the
servers' own cost. Production settings never name it.
"""

import re
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound

PREFIX = "/__baseline__/"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class BaselineMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.directory = Path(settings.BENCH_BASELINE_DIR)
        self.bodies = {}

    def __call__(self, request):
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        name = request.path_info[len(PREFIX):].rstrip("/")
        if not NAME_RE.match(name):
            return HttpResponseNotFound(b"no such baseline", content_type="text/plain")
        body = self._load(name)
        if body is None:
            return HttpResponseNotFound(b"no such baseline", content_type="text/plain")
        content, content_type = body
        return HttpResponse(content, content_type=content_type)

    def _load(self, name):
        # Read once per process: the bench writes every body before it loads any baseline.
        if name not in self.bodies:
            body_file = self.directory / f"{name}.body"
            if not body_file.is_file():
                return None
            type_file = self.directory / f"{name}.type"
            content_type = type_file.read_text().strip() if type_file.is_file() else "application/json"
            self.bodies[name] = (body_file.read_bytes(), content_type)
        return self.bodies[name]
