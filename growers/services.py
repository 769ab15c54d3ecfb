"""The only code that writes growers."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.cache import bump
from core.services import apply_changes, raise_if_invalid

from .models import Block, Farm, Grower, SprayClearance

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


FARM_EDITABLE = ("name", "puc", "ggn", "region", "active")
BLOCK_EDITABLE = ("fruit_type", "variety", "hectares", "planted_year", "active")


@transaction.atomic
def create_farm(*, grower, code, name, puc="", ggn="", region="", active=True):
    farm = Farm(grower=grower, code=(code or "").strip().upper(), name=(name or "").strip(),
                puc=(puc or "").strip().upper(), ggn=(ggn or "").strip(), region=(region or "").strip(), active=active)
    _save_farm(farm)
    return farm


@transaction.atomic
def update_farm(farm, **changes):
    """Change anything but the code and the grower: batches and certificates name the farm by them."""
    if apply_changes(farm, changes, FARM_EDITABLE):
        _save_farm(farm)
    return farm


def _save_farm(farm):
    errors = {}
    if farm.puc and Farm.objects.filter(puc=farm.puc).exclude(pk=farm.pk).exists():
        errors["puc"] = "Another farm already has this PUC."
    raise_if_invalid(farm, errors, exclude=["grower"])
    try:
        with transaction.atomic():
            farm.save()
    except IntegrityError:
        raise ValidationError({"code": "This farm code or PUC was taken a moment ago; reload and try again."}) from None
    bump("growers")


@transaction.atomic
def create_block(*, farm, code, fruit_type, variety, hectares=None, planted_year=None, active=True):
    block = Block(farm=farm, code=(code or "").strip().upper(), fruit_type=fruit_type,
                  variety=(variety or "").strip(), hectares=hectares, planted_year=planted_year, active=active)
    _save_block(block)
    return block


@transaction.atomic
def update_block(block, **changes):
    """Fruit and variety may change only while no batch came from the block: the batches carry them."""
    changed = apply_changes(block, changes, BLOCK_EDITABLE)
    if not changed:
        return block
    if {"fruit_type", "variety"} & set(changed) and block.batches.exists():
        raise ValidationError({"variety": "Batches came from this block; its fruit and variety can no longer change. "
                                          "Add a new block instead."})
    _save_block(block)
    return block


def _save_block(block):
    errors = {}
    if block.code and Block.objects.filter(farm=block.farm, code=block.code).exclude(pk=block.pk).exists():
        errors["code"] = f"Farm {block.farm.code} already has a block {block.code}."
    raise_if_invalid(block, errors, exclude=["farm"])
    try:
        with transaction.atomic():
            block.save()
    except IntegrityError:
        raise ValidationError({"code": "This block code was taken a moment ago; reload and try again."}) from None
    bump("growers")


def find_block(*, grower, fruit_type, variety):
    """The one active block of `grower` with this fruit and variety, for an intake that names no block.

    Anything but exactly one is a ValidationError that names the candidates, so the caller can send `block`.
    """
    variety = (variety or "").strip()
    blocks = list(
        Block.objects.filter(farm__grower=grower, active=True, fruit_type=fruit_type, variety__iexact=variety)
        .select_related("farm")[:11]
    )
    if len(blocks) == 1:
        return blocks[0]
    if not blocks:
        raise ValidationError({"block": (
            f"{grower.code} has no active block of {fruit_type} {variety or '(no variety)'}. "
            "Send `block`, or ask a manager to add the block under one of the grower's farms."
        )})
    names = ", ".join(f"{block.pk} ({block.farm.code}/{block.code})" for block in blocks[:10])
    raise ValidationError({"block": (
        f"{grower.code} has {'more than 10' if len(blocks) > 10 else len(blocks)} active blocks of "
        f"{fruit_type} {variety}: {names}. Send `block` to say which one."
    )})


@transaction.atomic
def record_clearance(*, block, season, cleared_on, lab_reference, valid_until=None):
    clearance = SprayClearance(block=block, season=season, cleared_on=cleared_on,
                               lab_reference=(lab_reference or "").strip(), valid_until=valid_until)
    errors = {}
    if cleared_on and cleared_on > season.end_date:
        errors["cleared_on"] = f"This date is after season {season.code} ends."
    raise_if_invalid(clearance, errors, exclude=["block", "season"])
    clearance.save()
    bump("growers")
    return clearance


def clearance_for(block, season, day):
    """The clearance that lets `block`'s fruit in on `day` (a local date) of `season`, or None."""
    return (SprayClearance.objects.filter(block=block, season=season, cleared_on__lte=day)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day)).first())
