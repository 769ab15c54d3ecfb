"""One shape for every write a client may send twice: intake from a weighbridge, a payment from an ERP.

The client sends an Idempotency-Key (core.api.idempotency_key). The model stores it under a unique
constraint. The first request creates; a repeat with the same key gets the first object back and
creates nothing; the same key with different data is a Conflict. Two requests racing with one key:
the constraint lets one in, and the other gets its object.
"""

from django.db import IntegrityError, transaction

from .errors import Conflict

KEY_MAX_LENGTH = 128


def create_once(model, key, identity, create, *, thing):
    """(create(), True) the first time `key` is used, else (the object it made, False).

    `identity` maps each field that must match for a repeat to count as the same `thing`.
    """
    existing = model.objects.filter(idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                return create(), True
        except IntegrityError:
            existing = model.objects.filter(idempotency_key=key).first()
            if existing is None:
                raise
    if any(getattr(existing, name) != value for name, value in identity.items()):
        raise Conflict(
            f"This Idempotency-Key was already used for another {thing} ({existing}); "
            f"use a new key for a new {thing}.",
            code="idempotency_key_reused",
        )
    return existing, False
