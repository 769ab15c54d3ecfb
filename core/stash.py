"""A form posted after the session ended is kept, and filled in again after the login.

Without this, login_required answers such a post with a redirect to the login page and the
clerk's typing is gone. The middleware keeps the posted fields (never passwords, the CSRF token
or files) in the new, anonymous session; Django's login() keeps that session's data. When the
same page is shown again after the login, the context processor hands the fields to the page
(base.html, as JSON) and static/js/app.js fills the form in. Nothing is submitted for the user:
they check it and press the button again (the form's idempotency key comes back with it, so a
post that did get through the first time is not made twice).

The kept fields go to whoever logs in next in that browser, for that page only, within
STASH_TTL; the one who was typing is the likely one, and nothing is saved until they submit.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.shortcuts import resolve_url

STASH = "stashed_post"
STASH_TTL = 60 * 60
MAX_STASHED_BYTES = 64 * 1024
NEVER_KEPT = {"csrfmiddlewaretoken", "next"}


def _kept(name):
    return name not in NEVER_KEPT and "password" not in name.lower()


class StashExpiredPostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.method == "POST" and response.status_code == 302 and not request.path.startswith("/api/")
                and not request.user.is_authenticated and self._to_login(response, request)):
            data = {name: request.POST.getlist(name) for name in request.POST if _kept(name)}
            if data and sum(len(value) for values in data.values() for value in values) <= MAX_STASHED_BYTES:
                request.session[STASH] = {"path": request.path, "data": data, "at": time.time()}
                messages.warning(request, "Your session ended before the form was saved. Log in again, and what "
                                          "you typed will be filled in for you to check and submit.")
        return response

    @staticmethod
    def _to_login(response, request):
        login = resolve_url(settings.LOGIN_URL)
        location = response.get("Location", "")
        return location.split("?")[0].endswith(login) and request.path != login


def stashed_form(request):
    """Context processor: the fields kept for this page, once, after the login."""
    user = getattr(request, "user", None)
    if request.method != "GET" or user is None or not user.is_authenticated:
        return {}
    stash = request.session.get(STASH)
    if not stash or stash.get("path") != request.path:
        return {}
    del request.session[STASH]
    if time.time() - stash.get("at", 0) > STASH_TTL:
        return {}
    return {"stashed_form": stash["data"]}
