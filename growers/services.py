"""The only code that writes growers."""

from django.db import transaction

from fruitpak.cache import bump
from fruitpak.services import apply_changes

from .models import Grower

EDITABLE = ("name", "contact_name", "email", "phone", "region", "ggn", "active")


@transaction.atomic
def create_grower(*, code, name, contact_name="", email="", phone="", region="", ggn="", active=True):
    grower = Grower(
        code=code.strip().upper(), name=name.strip(), contact_name=contact_name.strip(),
        email=email.strip().lower(), phone=phone.strip(), region=region.strip(), ggn=ggn.strip(), active=active,
    )
    grower.full_clean()
    grower.save()
    bump("growers")
    return grower


@transaction.atomic
def update_grower(grower, **changes):
    """Change anything but the code, which statements and integrators key on."""
    if apply_changes(grower, changes, EDITABLE):
        grower.full_clean()
        grower.save()
        bump("growers")
    return grower
