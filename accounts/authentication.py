"""Bearer-token authentication bound to the company of the host.

Kept apart from the API views: DRF imports authentication classes while it
is still loading, so this module may not import rest_framework.views.
"""

from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, Q, Value
from django.db.models.functions import Concat
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from .models import User

TOKEN_REFUSED = "The token is invalid, expired or revoked. Log in again."

# The user's permissions, from their groups and their own, as "app_label.codename": what
# ModelBackend.get_all_permissions loads in two more queries, here a subquery of the user's query.
PERMISSION_NAMES = ArraySubquery(
    Permission.objects.filter(Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")))
    .annotate(qualified_name=Concat("content_type__app_label", Value("."), "codename"))
    .values("qualified_name").distinct()
)


def refuse(message=TOKEN_REFUSED, code="token_not_valid"):
    raise AuthenticationFailed(message, code=code)


def check_tenant(token):
    if token.get("tenant") != connection.schema_name:
        refuse("This token belongs to another company.", code="wrong_company")


def password_unchanged(token, user):
    return token.get(jwt_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)


class TenantJWTAuthentication(JWTAuthentication):
    """Bearer tokens of this company only; one query fetches the user, checks the session and loads the permissions."""

    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        check_tenant(token)
        return token

    def get_user(self, validated_token):
        user = User.objects.filter(
            pk=validated_token.get(jwt_settings.USER_ID_CLAIM),
            is_active=True,
            api_sessions__id=validated_token.get("sid"),
            api_sessions__revoked_at__isnull=True,
        ).annotate(permission_names=PERMISSION_NAMES).first()
        if user is None or not password_unchanged(validated_token, user):
            refuse()
        # ModelBackend reads this instead of making its two queries. Read with the user on every
        # request, so a changed role or revoked permission counts at once; nothing is cached.
        user._perm_cache = set(user.permission_names)
        return user


class NoCredentials(BaseAuthentication):
    """For the login and refresh endpoints: nobody is authenticated, but a refusal is still a 401.

    DRF turns an authentication failure into 403 when a view has no
    authenticator to name a challenge; this one names Bearer.
    """

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
