"""API authentication: tenant-bound JWTs (simplejwt) with revocable sessions.

A token carries the company's schema ("tenant") and its session ("sid").
It is refused with 401 on any other company's host, when its session is
revoked, when the user is inactive, or when the password changed after it
was minted (simplejwt's hash_password claim).
"""

import uuid

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from core import audit
from core.clients import client_ip_address
from core.fastpath.grants import retiring

from . import services
from .authentication import (
    TOKEN_REFUSED,
    NoCredentials,
    TenantJWTAuthentication,
    check_tenant,
    password_unchanged,
    refuse,
)
from .emails import canonical_email
from .lockout import locked_out
from .models import ApiSession


class TenantJWTScheme(OpenApiAuthenticationExtension):
    target_class = TenantJWTAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "An access token from POST /api/auth/login, valid on this company's host only.",
        }


# The token pair of a new API session (accounts.services.issue_tokens).
_issue = services.issue_tokens


class CanonicalEmailField(serializers.EmailField):
    """The email in its canonical form (accounts/emails.py); what has none, or is non-ASCII after it, is a 400."""

    def to_internal_value(self, data):
        # DRF runs the length and format validators after this, on the canonical form that will be looked up.
        value = super().to_internal_value(data)
        try:
            return canonical_email(value)
        except ValueError:
            self.fail("invalid")


class LoginSerializer(serializers.Serializer):
    email = CanonicalEmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


@extend_schema(
    request=LoginSerializer, auth=[], tags=["auth"], summary="Log in with email and password",
    responses={
        200: TokenPairSerializer, 401: OpenApiResponse(description="Wrong email or password."),
        429: OpenApiResponse(description="Too many failed logins or requests; see Retry-After."),
    },
)
@api_view(["POST"])
@authentication_classes([NoCredentials])
@permission_classes([AllowAny])
def login(request):
    body = LoginSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    # The request goes to authenticate() so that django-axes can count failures and refuse a locked-out client.
    user = authenticate(request, username=body.validated_data["email"], password=body.validated_data["password"])
    if getattr(request, "axes_locked_out", False):
        return locked_out(request._request, credentials={"username": body.validated_data["email"]})
    if user is None:
        raise AuthenticationFailed("Wrong email or password.", code="wrong_credentials")
    with transaction.atomic():
        session = ApiSession(id=uuid.uuid4(), user=user)
        tokens = _issue(user, session)
        # An INSERT only: a new session takes nothing away from any grant (core/fastpath/grants.py).
        session.save(force_insert=True)
    services.note_login_address(user, client_ip_address(request))
    audit.event("login.succeeded", user=user, channel="api", ip=client_ip_address(request), api_session=session.id)
    return Response(tokens)


@extend_schema(
    request=RefreshSerializer, auth=[], tags=["auth"],
    responses={200: TokenPairSerializer, 401: OpenApiResponse(description="Invalid, expired, reused or revoked.")},
    summary="Swap a refresh token for a new pair",
    description="Each refresh token works once. Presenting an old one again revokes its whole session.",
)
@api_view(["POST"])
@authentication_classes([NoCredentials])
@permission_classes([AllowAny])
def refresh(request):
    body = RefreshSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        token = RefreshToken(body.validated_data["refresh_token"])
    except TokenError:
        refuse()
    check_tenant(token)
    session_id = token.get("sid")
    if session_id is None:
        refuse()
    # Whatever happens to the session retires its own grants only.
    with retiring(session_id=session_id), transaction.atomic():
        session = ApiSession.objects.select_for_update().select_related("user").filter(id=session_id).first()
        if session is None or session.revoked_at is not None:
            refused = TOKEN_REFUSED
        elif session.refresh_jti != token[jwt_settings.JTI_CLAIM]:
            services.revoke_api_session(session, "refresh token reused")
            refused = "This refresh token was already used; the session is now revoked. Log in again."
        elif not session.user.is_active or not password_unchanged(token, session.user):
            services.revoke_api_session(session, "user deactivated or password changed")
            refused = TOKEN_REFUSED
        else:
            refused = None
            tokens = _issue(session.user, session)
            session.refreshed_at = timezone.now()
            session.save(update_fields=["refresh_jti", "refreshed_at"])
    # Refused outside the transaction, so that a revocation above is committed.
    if refused:
        refuse(refused)
    return Response(tokens)


@extend_schema(request=None, responses={204: None}, tags=["auth"], summary="Revoke this token's session")
@api_view(["POST"])
@authentication_classes([TenantJWTAuthentication])
@permission_classes([IsAuthenticated])
@throttle_classes([])
def logout(request):
    session = ApiSession.objects.get(id=request.auth.get("sid"))
    services.revoke_api_session(session, "logout")
    return Response(status=204)


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def api_root(request):
    """Who is asking, for which company, and what the API offers (the endpoints by their URL names)."""
    names = ["grower", "packhouse", "batch", "payment", "price", "season"]
    endpoints = {name: reverse(f"{name}-list", request=request) for name in names}
    endpoints.update(
        reconciliation=reverse("reconciliation", request=request),
        intake_daily=reverse("intake-daily", request=request),
    )
    return Response({
        "company": {"name": request.tenant.name, "schema": request.tenant.schema_name},
        "user": {"email": request.user.email, "role": request.user.role},
        "endpoints": endpoints,
        "docs": reverse("api-docs", request=request),
    })
