"""The only code that writes growers."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.cache import bump
from core.services import apply_changes, raise_if_invalid

from .models import Grower

EDITABLE = ("name", "contact_name", "email", "phone", "region", "ggn", "active")


@transaction.atomic
def create_grower(*, code, name, contact_name="", email="", phone="", region="", ggn="", active=True):
    grower = Grower(
        code=code.strip().upper(), name=name.strip(), contact_name=contact_name.strip(),
        email=email.strip().lower(), phone=phone.strip(), region=region.strip(), ggn=ggn.strip(), active=active,
    )
    _save(grower)
    return grower


def _save(grower):
    errors = {}
    if grower.ggn and Grower.objects.filter(ggn=grower.ggn).exclude(pk=grower.pk).exists():
        errors["ggn"] = "Another grower already has this GGN."
    raise_if_invalid(grower, errors)
    try:
        with transaction.atomic():
            grower.save()
    except IntegrityError:
        # Another grower took the code or GGN between the check and the insert.
        raise ValidationError({"code": "This code or GGN was taken a moment ago; reload and try again."}) from None
    bump("growers")


@transaction.atomic
def update_grower(grower, **changes):
    """Change anything but the code, which statements and integrators key on."""
    if apply_changes(grower, changes, EDITABLE):
        _save(grower)
    return grower
