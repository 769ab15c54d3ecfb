"""The only code that writes packhouses."""

from django.db import transaction

from fruitpak.cache import bump
from fruitpak.services import apply_changes

from .models import Packhouse

EDITABLE = ("name", "region", "active")


@transaction.atomic
def create_packhouse(*, code, name, region="", active=True):
    packhouse = Packhouse(code=code.strip().upper(), name=name.strip(), region=region.strip(), active=active)
    packhouse.full_clean()
    packhouse.save()
    bump("packhouses")
    return packhouse


@transaction.atomic
def update_packhouse(packhouse, **changes):
    """Change name, region or active. The code is fixed: it is part of every batch code."""
    if apply_changes(packhouse, changes, EDITABLE):
        packhouse.full_clean()
        packhouse.save()
        bump("packhouses")
    return packhouse
