"""django-axes hooks: whose attempt it is, from which address, how failures are counted, and what a locked-out
client sees; and the per-address rate limit on the HTML login pages.

Axes keeps its attempts in the tenant's schema (it is a tenant app), with
the database handler, so a lockout is per company and does not depend on
Redis. The policy is in docs/SECURITY.md ("Brute force"):

- an (account, address) pair locks at AXES_FAILURE_LIMIT failures;
- an address locks at AXES_ADDRESS_FAILURE_LIMIT failures, whatever the accounts;
- an account locks at AXES_ACCOUNT_FAILURE_LIMIT failures from all addresses, except from an address it
  logged in from successfully within KNOWN_ADDRESS_DAYS: failures sent from elsewhere never lock the
  rightful user out of their usual address;
- failures while locked are not recorded (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False), so
  nobody, neither an attacker nor the user retrying, extends a lockout past its cool-off.
"""

import datetime as dt
import ipaddress
import logging
from functools import wraps

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from core import audit, metrics
from core.clients import client_ip_address
from core.throttling import count_request

from .emails import MAX_LENGTH, canonical_or_raw

LOCKED_OUT = "Too many failed logins. Try again in {minutes} minutes."
THROTTLED = "Too many login attempts from your address. Try again in {seconds} seconds."
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def username_of(request, credentials):
    """The attempted email in its canonical form, so that every spelling of one account counts as that account."""
    if credentials:
        username = credentials.get("username") or credentials.get("email")
    else:
        data = getattr(request, "data", None) or request.POST
        username = data.get("username") or data.get("email")
    return canonical_or_raw(username)[:MAX_LENGTH] if username else None


def usable_address(ip):
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def is_known_address(email, ip):
    """Whether the account `email` logged in successfully from `ip` within KNOWN_ADDRESS_DAYS."""
    from .models import KnownAddress

    ip = usable_address(ip)
    if not ip:
        return False
    since = timezone.now() - dt.timedelta(days=settings.KNOWN_ADDRESS_DAYS)
    return KnownAddress.objects.filter(user__email=email, ip_address=ip, last_login_at__gte=since).exists()


def _failures(attempts):
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LockoutHandler(AxesDatabaseHandler):
    """Axes's database handler with a limit of its own for each way of counting.

    Axes compares one number with one limit. This handler answers that
    number as AXES_FAILURE_LIMIT when any count has reached its own limit, and
    below it otherwise, so axes's lock, signal and response work unchanged.
    """

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        # Every failed password, counted before axes records it; refusals while locked are lockouts.
        if request is not None and not getattr(request, "axes_locked_out", False):
            metrics.login_failed(connection.schema_name, channel_of(request))
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def get_failures(self, request, credentials=None):
        limit = get_failure_limit(request, credentials)
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        ip = request.axes_ip_address
        username = get_client_username(request, credentials)
        counts = [(_failures(recent.filter(ip_address=ip)), settings.AXES_ADDRESS_FAILURE_LIMIT)]
        if username:
            counts.append((_failures(recent.filter(username=username, ip_address=ip)), limit))
            account = _failures(recent.filter(username=username))
            if account >= settings.AXES_ACCOUNT_FAILURE_LIMIT and not is_known_address(username, ip):
                counts.append((account, settings.AXES_ACCOUNT_FAILURE_LIMIT))
        if any(count >= own_limit for count, own_limit in counts):
            return limit
        return max(0, min(limit - 1, max(count for count, _ in counts)))


def drop_request_data(sender, instance, **kwargs):
    """Axes appends up to 2 kB of query string and form data to an attempt's row on every failure.

    The row is rewritten whole each time, so that grew the row and the WAL
    without limit (quadratically in bytes written). We keep neither: the
    audit log has who failed, from where, and when.
    """
    instance.get_data = ""
    instance.post_data = ""


def channel_of(request):
    return "api" if request.path.startswith("/api/") else "html"


def retry_after_seconds():
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out(request, original_response=None, credentials=None):
    """Axes's lockout response: JSON {detail, code} on the API, our page on HTML; 429 with Retry-After."""
    seconds = retry_after_seconds()
    detail = LOCKED_OUT.format(minutes=max(1, seconds // 60))
    metrics.login_locked_out(connection.schema_name, channel_of(request))
    audit.event(
        "login.locked_out", level=logging.WARNING, channel=channel_of(request),
        email=username_of(request, credentials) or "", ip=client_ip_address(request),
    )
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail, "code": "locked_out"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _parse_rate(rate):
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


def _seconds_left(key, window):
    try:
        remaining = caches["default"].ttl(key)
    except (RedisError, ConnectionInterrupted):
        remaining = None
    return remaining if remaining and remaining > 0 else window


def login_rate_limited(view):
    """The login POSTs of one address, at most LOGIN_THROTTLE_RATE; then 429 with Retry-After and our page.

    Counted in Redis before the view runs, so a refused attempt costs no
    password hash and no write to axes's table. With Redis down the count is
    unknown and the attempt goes through: axes's lockout still holds.
    """

    @wraps(view)
    def limited(request, *args, **kwargs):
        if request.method == "POST" and settings.LOGIN_THROTTLE_RATE:
            allowed, window = _parse_rate(settings.LOGIN_THROTTLE_RATE)
            ip = client_ip_address(request)
            key = f"login-throttle:{ip}"
            count = count_request(key, window)
            if count is not None and count > allowed:
                seconds = _seconds_left(key, window)
                audit.event("login.throttled", level=logging.WARNING, ip=ip, path=request.path)
                response = render(
                    request, "registration/login_throttled.html",
                    {"detail": THROTTLED.format(seconds=seconds)}, status=429,
                )
                response["Retry-After"] = str(seconds)
                return response
        return view(request, *args, **kwargs)

    return limited
