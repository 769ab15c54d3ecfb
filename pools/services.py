"""The only code that writes pools, their income, charge rules and membership."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import audit
from core.cache import bump
from core.errors import Conflict
from core.jobs import defer_for_company
from core.tenancy import company_today
from growers.models import FruitType
from pallets.models import Grade

from . import closing as closing_progress
from . import tasks
from .membership import member_batches
from .models import (
    ACTIVE_CLOSING,
    ChargeBasis,
    ChargeKind,
    ChargeRule,
    ClosingStatus,
    Pool,
    PoolBatch,
    PoolClosing,
    PoolHistory,
    PoolIncome,
    PoolStatus,
)

CACHE = "pools"


def _history(pool, event, by=None, **payload):
    PoolHistory.objects.create(pool=pool, event=event, recorded_by=by, payload=payload)
    bump(CACHE)
    audit.event_on_commit(f"pool.{event}", user=by, pool=pool.pk, **payload)


def _locked_open(pool):
    """The pool, locked against a concurrent close, or a ValidationError if it is closed."""
    locked = Pool.objects.select_for_update().get(pk=pool.pk)
    if locked.status != PoolStatus.OPEN:
        raise ValidationError({"pool": f"Pool {locked.code} is closed: its income and charges are fixed."})
    return locked


def create_pool(*, season, code, name, fruit_type, variety="", by=None):
    code, variety = (code or "").strip().upper(), (variety or "").strip()
    pool = Pool(season=season, code=code, name=(name or "").strip(), fruit_type=fruit_type, variety=variety,
                created_by=by)
    errors = {}
    if fruit_type not in FruitType.values:
        errors["fruit_type"] = f"'{fruit_type}' is not a fruit."
    try:
        pool.full_clean(exclude=["created_by", "closed_by"])
    except ValidationError as exc:
        for name_, messages in exc.message_dict.items():
            errors.setdefault(name_, messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            pool.save()
            _history(pool, "created", by, code=code, season=season.code, fruit_type=fruit_type, variety=variety)
    except IntegrityError:
        raise ValidationError({"code": "A pool with this code, or for this season, fruit and variety, was just "
                                       "made."}) from None
    return pool


def close_pool(pool, *, by=None, progress=None):
    """Fix the pool's batches (pool_batches) and its figures. Refused when closed, or when a batch is another's.

    Set-based: one INSERT … SELECT writes the members, so 100,000 batches close in seconds; pool_batches' unique
    batch refuses one that a closed pool holds, and only then is the message's query run. `progress`, if
    given, is called with each step of pools.closing.STEPS as it starts (the queued close reports it).
    """
    step = progress or (lambda name: None)
    with transaction.atomic():
        locked = Pool.objects.select_for_update().get(pk=pool.pk)
        if locked.status == PoolStatus.CLOSED:
            raise Conflict(f"Pool {locked.code} is already closed.", code="already_closed")
        step("writing")
        try:
            with transaction.atomic():
                batches = write_members(locked)
        except IntegrityError:
            # pool_batches' unique batch refused one: say which closed pool holds it. (Checking first would
            # cost a second pass over the batches on every close, to find what is almost never there.)
            _refuse_batches_held_elsewhere(locked)
            raise Conflict("Another pool took some of these batches while this one closed; try again.",
                           code="batch_taken") from None
        step("recording")
        locked.status, locked.closed_at, locked.closed_by = PoolStatus.CLOSED, timezone.now(), by
        locked.save(update_fields=["status", "closed_at", "closed_by"])
        _history(locked, "closed", by, batches=batches)
    return locked


def _refuse_batches_held_elsewhere(pool):
    held = (PoolBatch.objects.filter(batch__in=member_batches(pool).order_by().values("pk"))
            .select_related("pool", "batch").order_by("batch__batch_code"))
    first = held.first()
    if first is not None:
        raise ValidationError({"__all__": (
            f"{held.count()} of this pool's batches already belong to a closed pool "
            f"(e.g. {first.batch.batch_code} in {first.pool.code}); a batch is settled in one pool only."
        )})


def write_members(pool):
    """pool_batches rows for the batches the open pool's rule selects, in one statement; returns how many.

    Only close_pool (and the demo seed, through close_pool) calls it, with the pool row locked.
    """
    sql, params = member_batches(pool).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO pool_batches (pool_id, batch_id) SELECT %s, members.* FROM ({sql}) AS members",
                       [pool.pk, *params])
        return cursor.rowcount


def queue_close(pool, *, by=None):
    """Close `pool` in the job worker (pools.tasks.close_pool); returns the PoolClosing that the page and API poll.

    Refused (409) when the pool is closed, or while another close of it waits or runs.
    """
    with transaction.atomic():
        locked = Pool.objects.select_for_update().get(pk=pool.pk)
        if locked.status == PoolStatus.CLOSED:
            raise Conflict(f"Pool {locked.code} is already closed.", code="already_closed")
        if PoolClosing.objects.filter(pool=locked, status__in=ACTIVE_CLOSING).exists():
            raise Conflict(f"Pool {locked.code} is already being closed; its page shows the progress.",
                           code="already_closing")
        closing = PoolClosing.objects.create(pool=locked, requested_by=by)
        _history(locked, "close_queued", by, closing=closing.pk)
        # In this transaction: a rolled-back request leaves no job, a committed one always has its job.
        defer_for_company(tasks.close_pool, closing_id=closing.pk)
    return closing


def run_closing(closing_id):
    """The job's work: close the pool of a queued PoolClosing and record how it went on the row.

    A closing that is done or refused is left alone (a job run twice); one left "running" by a dead worker
    is run again (retry_stalled_jobs), its earlier transaction having died with that worker.
    """
    closing = PoolClosing.objects.select_related("pool", "requested_by").get(pk=closing_id)
    if not closing.active:
        return closing
    closing.status, closing.started_at = ClosingStatus.RUNNING, timezone.now()
    closing.save(update_fields=["status", "started_at"])
    bump(CACHE)
    try:
        with transaction.atomic():
            pool = close_pool(closing.pool, by=closing.requested_by, progress=closing_progress.StepReporter(closing))
            # Done commits with the close itself, so a closed pool never has a closing still "running".
            _finish(closing, ClosingStatus.DONE, batches=PoolBatch.objects.filter(pool=pool).count())
    except (ValidationError, Conflict) as exc:
        _finish(closing, ClosingStatus.FAILED,
                error=exc.message if isinstance(exc, Conflict) else " ".join(exc.messages))
    except Exception:
        _finish(closing, ClosingStatus.FAILED, error="An unexpected error stopped the close; nothing was changed. "
                                                     "Try again, or tell the administrator if it happens again.")
        raise
    finally:
        closing_progress.forget(closing)
    return closing


def _finish(closing, status, *, batches=None, error=""):
    closing.status, closing.batches, closing.error, closing.finished_at = status, batches, error, timezone.now()
    closing.save(update_fields=["status", "batches", "error", "finished_at"])
    bump(CACHE)


def record_income(pool, *, grade, amount, received_on, reference, reason="", by=None, reverses=None):
    """Money the pool's fruit earned. Append-only: a mistake is a negative entry with a reason."""
    reference, reason = (reference or "").strip(), (reason or "").strip()
    errors = {}
    if grade not in Grade.values:
        errors["grade"] = f"'{grade}' is not a grade."
    if amount is not None and amount == 0:
        errors["amount"] = "The amount cannot be zero."
    elif amount is not None and amount < 0 and not reason:
        errors["reason"] = "A negative (reversing) entry says why."
    if received_on and received_on > company_today():
        errors["received_on"] = "The date received cannot be in the future."
    if not reference:
        errors["reference"] = "Give the reference of the market return or remittance."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pool = _locked_open(pool)
        entry = PoolIncome.objects.create(pool=pool, grade=grade, amount=amount, received_on=received_on,
                                          reference=reference, reason=reason, reverses=reverses, created_by=by)
        _history(pool, "income", by, entry=entry.pk, grade=grade, amount=str(amount), reference=reference)
    return entry


def reverse_income(entry, *, reason, by=None):
    """The opposite entry, linked to `entry`, once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the entry is reversed."})
    if entry.reverses_id is not None:
        raise ValidationError({"reverses": "A reversing entry is not reversed; record a new entry instead."})
    if PoolIncome.objects.filter(reverses=entry).exists():
        raise Conflict(f"Income {entry.reference} was already reversed.", code="already_reversed")
    try:
        with transaction.atomic():
            return record_income(entry.pool, grade=entry.grade, amount=-entry.amount, received_on=company_today(),
                                 reference=entry.reference, reason=f"Reverses entry {entry.pk}: {reason}", by=by,
                                 reverses=entry)
    except IntegrityError:
        raise Conflict(f"Income {entry.reference} was already reversed.", code="already_reversed") from None


def add_charge_rule(pool, *, name, kind, basis, rate, by=None):
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Name the charge, e.g. \"Packing 2026\"."
    if kind not in ChargeKind.values:
        errors["kind"] = f"'{kind}' is not a kind of charge."
    if basis not in ChargeBasis.values:
        errors["basis"] = f"'{basis}' is not a basis."
    if rate is not None and rate <= 0:
        errors["rate"] = "The rate must be more than zero."
    elif rate is not None and basis == ChargeBasis.PERCENT_OF_INCOME and rate > 100:
        errors["rate"] = "A percentage is at most 100."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pool = _locked_open(pool)
        rule = ChargeRule.objects.create(pool=pool, name=name, kind=kind, basis=basis, rate=rate, created_by=by)
        _history(pool, "charge_added", by, rule=rule.pk, charge=name, kind=kind, basis=basis, rate=str(rate))
    return rule


def remove_charge_rule(rule, *, by=None):
    """A charge set by mistake goes while the pool is open; a closed pool's charges are fixed."""
    with transaction.atomic():
        pool = _locked_open(rule.pool)
        _history(pool, "charge_removed", by, rule=rule.pk, charge=rule.name, basis=rule.basis, rate=str(rule.rate))
        rule.delete()


def refuse_correction_in_a_closed_pool(sender, batch, **kwargs):
    """batches.signals.before_correction: a closed pool's figures were computed from this batch's kg."""
    membership = PoolBatch.objects.filter(batch_id=batch.pk).select_related("pool").first()
    if membership is not None:
        return (f"This batch is in closed pool {membership.pool.code}: its value is settled, so it cannot be "
                "corrected. Record the difference as a payment adjustment instead.")
    return None
