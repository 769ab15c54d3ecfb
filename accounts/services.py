"""The only code that creates or changes users and their roles."""

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from core import audit

from .models import User
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
    user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def ensure_user(*, email, password, role, full_name=""):
    """create_user, or bring an existing user back to this password and role."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return create_user(email=email, password=password, role=role, full_name=full_name)
    user.set_password(password)
    user.is_active = True
    user.is_staff = role == MANAGER
    user.full_name = full_name or user.full_name
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    user.__dict__.pop("role", None)
    return user


def revoke_api_session(session, reason):
    """End an API session: its access and refresh tokens stop working at once."""
    if session.revoked_at is None:
        session.revoked_at = timezone.now()
        session.revoked_reason = reason[:100]
        session.save(update_fields=["revoked_at", "revoked_reason"])
        audit.event_on_commit("api_session.revoked", user=session.user, api_session=session.id, reason=reason)


@transaction.atomic
def deactivate_user(user):
    """The user can no longer log in; their sessions and API tokens end now."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    _end_everything(user, "user deactivated")


@transaction.atomic
def set_password(user, password):
    """A new password ends every session and API token of the user."""
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
