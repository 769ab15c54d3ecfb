"""The only code that writes payments and price agreements."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from batches.models import Status as BatchStatus
from core import audit
from core.cache import bump
from core.errors import Conflict
from core.idempotency import create_once
from core.numbers import format_number
from core.services import apply_changes, raise_if_invalid
from core.tenancy import company_today
from pools.membership import member_batches
from pools.models import Pool, PoolStatus
from pools.settlement import grade_rates, settle

from .models import (
    OVERLAP_MESSAGE,
    GrowerPayment,
    NegativeDecision,
    PaymentRun,
    PaymentRunHistory,
    PaymentRunLine,
    PaymentType,
    PriceAgreement,
    RemittanceAdvice,
    RunStatus,
)

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


# --- Payment runs (docs/SETTLEMENT.md, "Payment runs") ----------------------------------------------------------

RUNS = "payment_runs"
# Batches in these states have their final kg: anything else in a pool blocks its run.
SETTLED_BATCH_STATES = (BatchStatus.PACKED, BatchStatus.DISPATCHED, BatchStatus.REJECTED)
ISSUES_LISTED = 50


def breakdown_of(settlement):
    """A grower's settlement as JSON: every figure and what it came from, Decimals as exact strings."""
    return {
        "grower_code": settlement.grower_code, "grower_name": settlement.grower_name,
        "batches": settlement.batches, "net_kg": str(settlement.net_kg), "cartons": settlement.cartons,
        "pallets": str(settlement.pallets),
        "grades": [{"grade": line.grade, "kg": str(line.kg), "rate": None if line.rate is None else str(line.rate),
                    "value": str(line.value)} for line in settlement.grades],
        "gross": str(settlement.gross),
        "charges": [{"rule_id": line.rule_id, "name": line.name, "kind": line.kind, "basis": line.basis,
                     "rate": str(line.rate), "quantity": str(line.quantity), "amount": str(line.amount)}
                    for line in settlement.charges],
        "charges_total": str(settlement.charges_total), "already_paid": str(settlement.already_paid),
        "final": str(settlement.final),
    }


def deductions_by_kind(breakdown):
    """kind -> Σ of that kind's charge amounts: what posting withholds, one deduction per kind."""
    totals = {}
    for charge in breakdown["charges"]:
        totals[charge["kind"]] = totals.get(charge["kind"], Decimal("0.00")) + Decimal(charge["amount"])
    return totals


def _run_history(run, event, by, **payload):
    PaymentRunHistory.objects.create(run=run, event=event, recorded_by=by, payload=payload)
    bump(RUNS)
    audit.event_on_commit(f"payment_run.{event}", user=by, run=run.pk, pool=run.pool_id, **payload)


def _locked_run(run):
    return PaymentRun.objects.select_for_update(of=("self",)).select_related("pool").get(pk=run.pk)


def _refuse_unless(run, *states, doing):
    if run.status not in states:
        raise Conflict(f"{run.reference} is {run.get_status_display().lower()}: it cannot be {doing}.",
                       code=f"run_{run.status}")


def _refuse_without_permission(by):
    # The views check it too; a service called from a shell or a job must not skip it.
    if by is None or not by.has_perm("payments.change_paymentrun"):
        raise PermissionDenied("Only Finance and Managers prepare, approve, post and cancel payment runs.")


def prepare_run(pool, *, by):
    """A draft run of a closed pool, its lines computed now; preparing a draft again recomputes it.

    Recomputing drops the decisions on negative lines: they were taken on figures that may have moved.
    """
    _refuse_without_permission(by)
    with transaction.atomic():
        # The pool's row lock orders two users preparing the same pool; the partial unique index is the backstop.
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        if pool.status != PoolStatus.CLOSED:
            raise ValidationError({"pool": f"Pool {pool.code} is open: close it first. A run pays a closed pool's "
                                           "fixed figures."})
        run = PaymentRun.objects.select_for_update().filter(pool=pool).exclude(status=RunStatus.CANCELLED).first()
        if run is not None and run.status != RunStatus.DRAFT:
            raise Conflict(f"Pool {pool.code} already has {run.reference} ({run.get_status_display().lower()}); "
                           "cancel it before preparing another.", code="run_exists")
        event = "prepared" if run is None else "reprepared"
        if run is None:
            run = PaymentRun.objects.create(pool=pool, prepared_by=by)
        else:
            run.lines.all().delete()
            run.prepared_by, run.prepared_at = by, timezone.now()
            run.save(update_fields=["prepared_by", "prepared_at"])
        settlements = settle(pool)
        PaymentRunLine.objects.bulk_create([
            PaymentRunLine(run=run, grower_id=s.grower_id, gross=s.gross, charges=s.charges_total,
                           already_paid=s.already_paid, final=s.final, breakdown=breakdown_of(s))
            for s in settlements
        ])
        _run_history(run, event, by, lines=len(settlements),
                     final=str(sum((s.final for s in settlements), Decimal("0.00"))))
    return run


@dataclass(frozen=True)
class Issue:
    """Something that blocks approval, and the page where it is fixed."""

    code: str
    message: str
    url: str


def _changed_growers(run, lines=None):
    """Codes of the growers whose stored line differs from a fresh settle() of the pool (or who are new or gone)."""
    lines = list(run.lines.all()) if lines is None else lines
    stored = {line.grower_id: line.breakdown for line in lines}
    fresh = {s.grower_id: breakdown_of(s) for s in settle(run.pool)}
    changed = {grower for grower in stored.keys() | fresh.keys() if stored.get(grower) != fresh.get(grower)}
    return sorted((stored.get(grower) or fresh[grower])["grower_code"] for grower in changed)


def validation_issues(run):
    """What blocks the approval of `run`, each with a link to where it is fixed. Empty: it may be approved."""
    pool, issues = run.pool, []
    run_url = reverse("payments:run-detail", args=[run.pk])
    unfinished = (member_batches(pool).exclude(status__in=SETTLED_BATCH_STATES).order_by("batch_code")
                  .values_list("pk", "batch_code", "status"))
    for pk, code, status in unfinished[:ISSUES_LISTED]:
        issues.append(Issue("batch_not_packed", f"Batch {code} is {status}, not yet packed or rejected: its kg are "
                                                "not final.", reverse("batches:detail", args=[pk])))
    for rate in grade_rates(pool):
        if rate.kg and rate.income <= 0:
            issues.append(Issue("grade_without_income", f"{rate.grade} has {format_number(rate.kg)} kg but no "
                                                        "income: its growers would be paid nothing for it.",
                                reverse("pools:income", args=[pool.pk])))
    lines = list(run.lines.all())
    for line in lines:
        if line.final < 0 and line.decision == NegativeDecision.UNDECIDED:
            issues.append(Issue("negative_undecided", (
                f"{line.breakdown['grower_code']}'s final is {money_text(line.final)}: carry it forward or hold it."
            ), f"{run_url}#line-{line.pk}"))
    if run.status in (RunStatus.DRAFT, RunStatus.APPROVED):
        changed = _changed_growers(run, lines)
        if changed:
            issues.append(Issue("figures_changed", (
                f"The pool's figures changed since the run was prepared ({', '.join(changed[:10])}"
                f"{'…' if len(changed) > 10 else ''}): prepare the run again."
            ), f"{run_url}#prepare"))
    return issues


def decide(run, line, decision, *, by):
    """Carry a negative final forward (a negative adjustment at posting) or hold it (not paid in this run)."""
    _refuse_without_permission(by)
    if decision not in NegativeDecision.values:
        raise ValidationError({"decision": f"'{decision}' is not a decision: carry_forward, hold or blank."})
    with transaction.atomic():
        run = _locked_run(run)
        _refuse_unless(run, RunStatus.DRAFT, doing="changed")
        line = run.lines.get(pk=line.pk)
        if line.final >= 0:
            raise ValidationError({"decision": "Only a negative final needs a decision."})
        line.decision = decision
        line.save(update_fields=["decision"])
        _run_history(run, "decided", by, grower=line.breakdown["grower_code"], decision=decision or "none")
    return line


def approve_run(run, *, by):
    """The second pair of eyes: Finance or a Manager who did not prepare the run, once nothing blocks it."""
    _refuse_without_permission(by)
    with transaction.atomic():
        run = _locked_run(run)
        _refuse_unless(run, RunStatus.DRAFT, doing="approved")
        if run.prepared_by_id == by.pk:
            raise PermissionDenied(f"You prepared {run.reference}: another Finance user or a Manager approves it.")
        issues = validation_issues(run)
        if issues:
            raise ValidationError([issue.message for issue in issues])
        run.status, run.approved_by, run.approved_at = RunStatus.APPROVED, by, timezone.now()
        run.save(update_fields=["status", "approved_by", "approved_at"])
        _run_history(run, "approved", by)
    return run


def cancel_run(run, *, by, reason=""):
    """A draft or approved run is cancelled; a posted one is history (reverse its payments instead)."""
    _refuse_without_permission(by)
    with transaction.atomic():
        run = _locked_run(run)
        _refuse_unless(run, RunStatus.DRAFT, RunStatus.APPROVED, doing="cancelled")
        run.status, run.cancelled_by, run.cancelled_at = RunStatus.CANCELLED, by, timezone.now()
        run.save(update_fields=["status", "cancelled_by", "cancelled_at"])
        _run_history(run, "cancelled", by, reason=(reason or "").strip())
    return run


def _next_remittance_numbers(count):
    """`count` consecutive numbers. The UPDATE holds the counter row until the posting commits, so postings queue
    here; a rolled-back posting gives its numbers back: the sequence has no gaps."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO remittance_counter (id, last_number) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET last_number = remittance_counter.last_number + EXCLUDED.last_number "
            "RETURNING last_number", [count],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


def _run_payments(run, line, paid_date, by):
    """One deduction per charge kind, then the final (or the carried-forward negative), all against the pool."""
    code = line.breakdown["grower_code"]

    def payment(payment_type, amount, what, notes):
        return GrowerPayment(
            grower_id=line.grower_id, payment_type=payment_type, amount=amount, paid_date=paid_date,
            reference=f"{run.reference}-{code}-{what.upper()}", notes=notes, created_by=by, pool_id=run.pool_id,
            idempotency_key=f"payment-run:{run.pk}:{line.grower_id}:{what}",
        )

    payments = [payment(PaymentType.DEDUCTION, amount, kind, f"{run.reference}: {kind.replace('_', ' ')} charges")
                for kind, amount in sorted(deductions_by_kind(line.breakdown).items()) if amount > 0]
    if line.final > 0:
        payments.append(payment(PaymentType.FINAL, line.final, "final", f"{run.reference}: final"))
    elif line.final < 0:
        payments.append(payment(PaymentType.ADJUSTMENT, line.final, "carried",
                                f"{run.reference}: negative final carried forward"))
    return payments


def post_run(run, *, by):
    """Write the approved run's payments and remittance advices, once. Returns (run, posted now?).

    Under the run's row lock: a second posting, or one racing this one, finds the run posted and writes nothing.
    The payment limits of the form do not apply: they guard against typing errors, and a run is a computed
    document that a second user approved (docs/SETTLEMENT.md).
    """
    _refuse_without_permission(by)
    with transaction.atomic():
        run = _locked_run(run)
        if run.status == RunStatus.POSTED:
            return run, False
        _refuse_unless(run, RunStatus.APPROVED, doing="posted before it is approved")
        lines = list(run.lines.select_related("grower").order_by("grower__code"))
        changed = _changed_growers(run, lines)
        if changed:
            raise Conflict(f"The pool's figures changed since {run.reference} was approved ({', '.join(changed[:10])}"
                           "): cancel it and prepare a new run.", code="figures_changed")
        paid_date = company_today()
        payable = [line for line in lines if not line.held]
        payments = [payment for line in payable for payment in _run_payments(run, line, paid_date, by)]
        GrowerPayment.objects.bulk_create(payments)
        RemittanceAdvice.objects.bulk_create([
            RemittanceAdvice(number=number, run=run, grower_id=line.grower_id, pool_id=run.pool_id,
                             paid_date=paid_date, gross=line.gross, charges=line.charges,
                             already_paid=line.already_paid, final=line.final, decision=line.decision,
                             breakdown=line.breakdown)
            for number, line in zip(_next_remittance_numbers(len(payable)), payable, strict=True)
        ] if payable else [])
        run.status, run.posted_by, run.posted_at = RunStatus.POSTED, by, timezone.now()
        run.save(update_fields=["status", "posted_by", "posted_at"])
        bump("payments")
        _run_history(run, "posted", by, payments=len(payments), remittances=len(payable),
                     held=len(lines) - len(payable))
    return run, True
