"""The only code that creates or changes users and their roles.

Each change to a user or an API session is made inside core.fastpath's `retiring` scope for that user or
session, so that it retires only their grants on cached pages, not the whole company's.
"""

import datetime as dt
import ipaddress
import uuid
from contextlib import contextmanager

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from core import audit
from core.fastpath.grants import retiring

from .emails import canonical_email
from .models import ApiSession, KnownAddress, User
from .roles import MANAGER, ROLES


@transaction.atomic
def create_user(*, email, password, role, full_name=""):
    """A user of the current schema's company, with one role.

    Managers may also use the company's Django admin.
    """
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    user = User.objects.create_user(
        email=email, password=password, full_name=full_name, is_staff=(role == MANAGER),
    )
    with retiring(user_id=user.pk):
        user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def ensure_user(*, email, password, role, full_name=""):
    """create_user, or bring an existing user back to this password and role."""
    user = User.objects.filter(email=canonical_email(email)).first()
    if user is None:
        return create_user(email=email, password=password, role=role, full_name=full_name)
    with retiring(user_id=user.pk):
        user.set_password(password)
        user.is_active = True
        user.full_name = full_name or user.full_name
        user.save()
        set_role(user, role)
    return user


@transaction.atomic
def set_role(user, role):
    """The user's one role from now on; managers may also use the company's Django admin."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    with retiring(user_id=user.pk):
        if user.is_staff != (role == MANAGER):
            user.is_staff = role == MANAGER
            user.save(update_fields=["is_staff"])
        user.groups.set([Group.objects.get(name=role)])
    user.__dict__.pop("role", None)


def issue_tokens(user, session):
    """The token pair of a new API session, bound to this company's schema and to the session."""
    refresh = RefreshToken.for_user(user)
    refresh["tenant"] = connection.schema_name
    refresh["sid"] = str(session.id)
    session.refresh_jti = refresh[jwt_settings.JTI_CLAIM]
    return {
        "access_token": str(refresh.access_token),
        "refresh_token": str(refresh),
        "token_type": "Bearer",
        "expires_in": int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


@contextmanager
def short_api_session(user, reason):
    """An access token of a new API session of `user`, for a process acting as them (manage.py warm_cache);
    the session is revoked when the block ends, so the token works for nothing afterwards."""
    with transaction.atomic():
        session = ApiSession(id=uuid.uuid4(), user=user)
        tokens = issue_tokens(user, session)
        session.save(force_insert=True)
    try:
        yield tokens["access_token"]
    finally:
        revoke_api_session(session, reason)


def revoke_api_session(session, reason):
    """End an API session: its access and refresh tokens stop working at once."""
    if session.revoked_at is None:
        session.revoked_at = timezone.now()
        session.revoked_reason = reason[:100]
        with retiring(session_id=session.id):
            session.save(update_fields=["revoked_at", "revoked_reason"])
        audit.event_on_commit("api_session.revoked", user=session.user, api_session=session.id, reason=reason)


@transaction.atomic
def deactivate_user(user):
    """The user can no longer log in; their sessions and API tokens end now."""
    with retiring(user_id=user.pk):
        user.is_active = False
        user.save(update_fields=["is_active"])
        _end_everything(user, "user deactivated")


@transaction.atomic
def set_password(user, password):
    """A new password ends every session and API token of the user."""
    with retiring(user_id=user.pk):
        user.set_password(password)
        user.save(update_fields=["password"])
        _end_everything(user, "password changed")


def _end_everything(user, reason):
    revoked = user.api_sessions.filter(revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_reason=reason)
    ended = end_html_sessions(user)
    audit.event_on_commit("user.sessions_ended", user=user, reason=reason, api_sessions=revoked, html_sessions=ended)


def end_html_sessions(user):
    """Delete the user's browser sessions in this company's schema.

    The session table has no user column, so the live sessions are decoded
    one by one; a company has few enough that this is cheap next to how
    rarely it runs. Django would also refuse these sessions on their next
    request (inactive user, or the password hash in the session no longer
    matching), but deleting them means nothing depends on that check.
    """
    doomed = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=doomed).delete()
    return len(doomed)


def note_login_address(user, ip):
    """Remember that `user` logged in from `ip`: the per-account lockout spares that address (accounts/lockout.py).

    Not in a `retiring` scope: the table grants nothing to any page, and is not watched by core.fastpath.
    """
    try:
        ip = str(ipaddress.ip_address(ip))
    except ValueError:
        return
    now = timezone.now()
    KnownAddress.objects.update_or_create(user=user, ip_address=ip, defaults={"last_login_at": now})
    # Each user's rows stay few: an address unused for the period no longer counts, and goes.
    KnownAddress.objects.filter(
        user=user, last_login_at__lt=now - dt.timedelta(days=settings.KNOWN_ADDRESS_DAYS),
    ).delete()


@transaction.atomic
def unlock_login(user, *, by=None, via):
    """Forget every failed login counted against `user`'s account in this company, from every address.

    Failures counted against an address (whatever the account) stay: they
    are that address's, and may be someone else's attack.
    """
    removed, _ = AccessAttempt.objects.filter(username=user.email).delete()
    audit.event_on_commit(
        "login.unlocked", user=by, email=user.email, attempts_removed=removed, via=via,
    )
    return removed
