"""The only code that writes payments and price agreements."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core import audit
from core.cache import bump
from core.errors import Conflict
from core.idempotency import create_once
from core.numbers import format_number
from core.services import apply_changes, raise_if_invalid
from core.tenancy import company_today
from pools.models import PoolStatus

from .models import OVERLAP_MESSAGE, GrowerPayment, PaymentType, PriceAgreement

PRICE_EDITABLE = ("valid_to", "price_per_kg", "notes")


# What must match for a replayed Idempotency-Key to be the same payment.
PAYMENT_IDENTITY = ("grower", "payment_type", "amount", "reference", "paid_date", "pool")


def record_payment(*, grower, payment_type, amount, reference, paid_date, notes="", by=None, idempotency_key=None,
                   pool=None):
    """Record money settled with a grower. Immutable once made.

    `idempotency_key` is stored with the payment; record_payment_once is the way to use one.
    """
    reference = (reference or "").strip()
    errors = {}
    if payment_type not in PaymentType.values:
        errors["payment_type"] = f"'{payment_type}' is not a payment type."
    elif amount is not None and payment_type == PaymentType.ADJUSTMENT and amount == 0:
        errors["amount"] = "An adjustment cannot be zero."
    elif amount is not None and payment_type != PaymentType.ADJUSTMENT and amount <= 0:
        errors["amount"] = (
            f"A {payment_type} is entered as a positive amount; use an adjustment to correct a mistake."
        )
    if "amount" not in errors and amount is not None and abs(amount) > payment_max_amount():
        errors["amount"] = (
            f"{money_text(amount)} is above the company's largest payment, {money_text(payment_max_amount())}. "
            "Check the amount; if it is right, split it or ask a manager to raise the limit in Company settings."
        )
    if paid_date and paid_date > company_today():
        errors["paid_date"] = "The paid date cannot be in the future."
    if pool is not None and pool.status != PoolStatus.OPEN:
        errors["pool"] = f"Pool {pool.code} is closed; pay against an open pool or none."
    if reference and GrowerPayment.objects.filter(reference=reference).exists():
        errors["reference"] = f"The reference '{reference}' is already used by another payment."
    payment = GrowerPayment(
        grower=grower, payment_type=payment_type, amount=amount, reference=reference, paid_date=paid_date,
        notes=notes or "", created_by=by, idempotency_key=idempotency_key or None,
        pool=pool,
    )
    # The rules above cover the unique reference and the CHECK constraints, with
    # messages per field; the database enforces them too.
    raise_if_invalid(payment, errors, exclude=["grower", "created_by", "idempotency_key", "pool"], constraints=False)

    try:
        with transaction.atomic():
            payment.save()
            bump("payments")
            audit.event_on_commit(
                "payment.recorded", user=by, payment=payment.pk, grower=grower.pk, payment_type=payment_type,
                amount=amount, reference=reference or "-",
            )
    except IntegrityError as exc:
        if idempotency_key and GrowerPayment.objects.filter(idempotency_key=idempotency_key).exists():
            raise  # a race with the same key: record_payment_once answers it
        raise ValidationError(
            {"reference": f"The reference '{reference}' is already used by another payment."}
        ) from exc
    return payment


# The model's defaults: for code run outside a company's request (a shell, a test without a tenant).
DEFAULT_PAYMENT_CONFIRM_AMOUNT = Decimal("500000.00")
DEFAULT_PAYMENT_MAX_AMOUNT = Decimal("50000000.00")


def payment_confirm_amount():
    """Above this (either sign) the payment form asks for a confirmation step (docs/DATA_ENTRY.md)."""
    return getattr(connection.tenant, "payment_confirm_amount", None) or DEFAULT_PAYMENT_CONFIRM_AMOUNT


def payment_max_amount():
    """Above this (either sign) a payment is refused, from every caller."""
    return getattr(connection.tenant, "payment_max_amount", None) or DEFAULT_PAYMENT_MAX_AMOUNT


def money_text(amount):
    """An amount with the company's currency, in its number format: "ZAR 12 345,50"."""
    return f"{getattr(connection.tenant, 'currency', None) or 'ZAR'} {format_number(amount)}"


def record_payment_once(idempotency_key, **payment):
    """record_payment for a client that may send the same payment twice. Returns (payment, created)."""
    identity = {name: payment.get(name) for name in PAYMENT_IDENTITY}
    identity["reference"] = (identity["reference"] or "").strip()
    return create_once(GrowerPayment, idempotency_key, identity,
                       lambda: record_payment(**payment, idempotency_key=idempotency_key), thing="payment")


REFERENCE_MAX = GrowerPayment._meta.get_field("reference").max_length


def _reversal_reference(original):
    reference = f"REV-{original.reference}"
    if len(reference) > REFERENCE_MAX or GrowerPayment.objects.filter(reference=reference).exists():
        reference = f"REV-{original.pk}"
    return reference


def reverse_payment(payment, *, reason, by=None):
    """Undo a payment without editing it: a new adjustment of the opposite amount, linked to it, with a reason.

    A payment is reversed at most once, and a reversal is never reversed (record a new payment instead).
    Two users reversing the same payment at once: the first wins, the second gets a Conflict naming the
    reversal (the original's row lock orders them; the unique `reverses` is the backstop). The reversal is an
    adjustment, so the payment types keep their meaning (an advance stays positive) and the grower's balance,
    statement and reconciliation sum it with everything else; its notes name the original and the reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the payment is reversed; both payments show the reason."})
    with transaction.atomic():
        # A row lock, not an UPDATE: the append-only trigger refuses updates, not SELECT ... FOR UPDATE.
        original = GrowerPayment.objects.select_for_update(of=("self",)).select_related("grower").get(pk=payment.pk)
        if original.reverses_id is not None:
            raise ValidationError({"reverses": f"{original.reference} is itself a reversal and cannot be reversed; "
                                               "record a new payment instead."})
        done = GrowerPayment.objects.filter(reverses=original).first()
        if done is not None:
            raise Conflict(f"{original.reference} was already reversed by {done.reference}.", code="already_reversed")
        reversal = GrowerPayment(
            grower=original.grower, payment_type=PaymentType.ADJUSTMENT, amount=-original.amount,
            reference=_reversal_reference(original), paid_date=company_today(),
            notes=f"Reverses {original.reference}: {reason}", created_by=by, reverses=original,
            pool_id=original.pool_id,
        )
        try:
            with transaction.atomic():
                reversal.save()
        except IntegrityError as exc:
            raise ValidationError(
                {"__all__": f"The database refused the reversal of {original.reference}: {exc.__cause__ or exc}"}
            ) from None
        bump("payments")
        audit.event_on_commit(
            "payment.reversed", user=by, payment=reversal.pk, reverses=original.pk, grower=original.grower_id,
            amount=reversal.amount, reference=reversal.reference, reason=reason,
        )
    return reversal


def _save_agreement(agreement):
    if agreement.price_per_kg is not None and agreement.price_per_kg <= 0:
        raise ValidationError({"price_per_kg": "The price per kg must be more than zero."})
    agreement.full_clean()
    try:
        with transaction.atomic():
            agreement.save()
    except IntegrityError:
        # Another agreement was saved between our check and our insert.
        raise ValidationError(OVERLAP_MESSAGE) from None
    bump("prices")
    return agreement


def create_price_agreement(*, fruit_type, grade, valid_from, price_per_kg, variety="", valid_to=None, notes="",
                           by=None):
    return _save_agreement(PriceAgreement(
        fruit_type=fruit_type, variety=(variety or "").strip(), grade=grade, valid_from=valid_from,
        valid_to=valid_to, price_per_kg=price_per_kg, notes=notes or "", created_by=by,
    ))


def update_price_agreement(agreement, **changes):
    """End an agreement, correct its price or notes. What it prices and from when are fixed."""
    if apply_changes(agreement, changes, PRICE_EDITABLE):
        _save_agreement(agreement)
    return agreement
