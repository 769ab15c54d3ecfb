"""The only code that writes packhouses."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.cache import bump
from core.services import apply_changes

from .models import Packhouse

EDITABLE = ("name", "region", "active")


@transaction.atomic
def create_packhouse(*, code, name, region="", active=True):
    packhouse = Packhouse(code=code.strip().upper(), name=name.strip(), region=region.strip(), active=active)
    _save(packhouse)
    return packhouse


def _save(packhouse):
    packhouse.full_clean()
    try:
        with transaction.atomic():
            packhouse.save()
    except IntegrityError:
        # Another packhouse took the code between the check and the insert.
        raise ValidationError({"code": "This code was taken a moment ago; choose another."}) from None
    bump("packhouses")


@transaction.atomic
def update_packhouse(packhouse, **changes):
    """Change name, region or active. The code is fixed: it is part of every batch code."""
    if apply_changes(packhouse, changes, EDITABLE):
        _save(packhouse)
    return packhouse
