from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property

from .emails import canonical_email
from .roles import role_of


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=canonical_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        # Exact on the canonical form: iexact would let PostgreSQL fold look-alikes (accounts/emails.py).
        try:
            email = canonical_email(email)
        except ValueError:
            raise self.model.DoesNotExist from None
        return self.get(email=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address.

    The table exists in every tenant schema (the company's staff) and in the
    public schema (platform staff). A user belongs to exactly one schema.
    """

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May log in to this company's admin at /admin/.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        # Django's ModelForms (the admin's user forms) call this before saving.
        super().clean()
        try:
            self.email = canonical_email(self.email)
        except ValueError:
            pass  # the field's own validator says what is wrong

    @classmethod
    def normalize_username(cls, username):
        try:
            return canonical_email(username)
        except ValueError:
            return super().normalize_username(username)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @cached_property
    def role(self):
        # Read several times per page (menu, dashboard); a request sees one role. ensure_user forgets it.
        return role_of(self)


class ApiSession(models.Model):
    """One API login: the family of tokens that came from it.

    Every access and refresh token carries its session id ("sid"). Logout
    revokes the session, and so both tokens at once. Each refresh replaces
    the session's one valid refresh token; presenting an older one means it
    was stolen or replayed, and revokes the whole session.
    """

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_sessions")
    refresh_jti = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="ix_api_sessions_user_revoked")]

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class KnownAddress(models.Model):
    """An address the user logged in from successfully, recently.

    The per-account lockout (accounts/lockout.py) does not apply there, so
    failures an attacker sends from elsewhere never lock the rightful user
    out of their usual address. One row per (user, address); rows older than
    KNOWN_ADDRESS_DAYS are dropped when the user next logs in.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_addresses")
    ip_address = models.GenericIPAddressField()
    last_login_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "ip_address"], name="accounts_known_address_unique")]

    def __str__(self):
        return f"{self.user} {self.ip_address}"
