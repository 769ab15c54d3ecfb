from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserChangeForm, UserCreationForm

from .emails import canonical_email
from .models import User


class CanonicalEmailField(forms.EmailField):
    """An email field whose value is the canonical form (accounts/emails.py), validated after canonicalising."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return canonical_email(value) if value else value
        except ValueError:
            raise forms.ValidationError("Enter a valid email address.", code="invalid") from None


class LoginForm(AuthenticationForm):
    username = CanonicalEmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class AdminUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")
        field_classes = {"email": CanonicalEmailField}


class AdminUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "is_active", "is_staff", "groups")
        field_classes = {"email": CanonicalEmailField}
