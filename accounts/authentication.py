"""Bearer-token authentication bound to the company of the host.

Kept apart from the API views: DRF imports authentication classes while it
is still loading, so this module may not import rest_framework.views.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models.expressions import RawSQL
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from core.fastpath.grants import GrantingAuthentication

from .models import User

TOKEN_REFUSED = "The token is invalid, expired or revoked. Log in again."

# The user's permissions, from their groups and their own, as "app_label.codename": what
# ModelBackend.get_all_permissions loads in two more queries, here a subquery of the user's own query.
# Written as SQL because the ORM's version (ArraySubquery of an OR across two joins) took longer to
# compile than the queries it saved. Table names come from the models; the search_path picks the schema.
PERMISSION_NAMES = RawSQL(
    "ARRAY(SELECT content_type.app_label || '.' || permission.codename"
    f" FROM {Permission._meta.db_table} permission"
    f" JOIN {ContentType._meta.db_table} content_type ON content_type.id = permission.content_type_id"
    " WHERE permission.id IN ("
    f"SELECT permission_id FROM {User.user_permissions.through._meta.db_table}"
    f' WHERE user_id = "{User._meta.db_table}"."id"'
    f" UNION SELECT granted.permission_id FROM {Group.permissions.through._meta.db_table} granted"
    f" JOIN {User.groups.through._meta.db_table} member ON member.group_id = granted.group_id"
    f' WHERE member.user_id = "{User._meta.db_table}"."id"))',
    [],
)


def refuse(message=TOKEN_REFUSED, code="token_not_valid"):
    raise AuthenticationFailed(message, code=code)


def check_tenant(token):
    if token.get("tenant") != connection.schema_name:
        refuse("This token belongs to another company.", code="wrong_company")


def password_unchanged(token, user):
    return token.get(jwt_settings.REVOKE_TOKEN_CLAIM) == get_md5_hash_password(user.password)


class TenantJWTAuthentication(GrantingAuthentication):
    """Bearer tokens of this company only; one query fetches the user, checks the session and loads the permissions.

    A GrantingAuthentication: the database's yes to a GET of a cached list is remembered as a grant
    (core/fastpath/grants.py), for what these two methods check.
    """

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


class UserWithPermissionsBackend(ModelBackend):
    """ModelBackend whose session user arrives with their permissions: one query where it took three.

    Read with the user on every request, as in TenantJWTAuthentication.get_user,
    so nothing goes stale.
    """

    def get_user(self, user_id):
        user = User._default_manager.filter(pk=user_id).annotate(permission_names=PERMISSION_NAMES).first()
        if user is None or not self.user_can_authenticate(user):
            return None
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
