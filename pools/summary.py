"""The figures of a pool's page: a fixed number of aggregate queries, whatever its growers and batches, cached.

settle() over a pool of 100,000 batches takes seconds (its pallet shares join the pool's batches with every pallet
line), and the page used to compute it on every view. The figures are now cached under the generations of
everything they read, so any write that could move them makes the next view recompute (docs/SETTLEMENT.md,
"The pool page's figures"):
- pools: the pool itself (status, closing), its income and charge rules, other pools of its season (the
  variety-beats-blank rule), pool_batches;
- batches: membership of an open pool, status, net and class kg;
- pallets: cartons and pallet shares (pallet lines);
- payments: already paid (a payment run's posting bumps it too);
- growers: the codes and names shown.
A closed pool reads the same things (a member batch may still be packed and palletised after the close), so it
is cached the same way; once every member is settled, its figures stay cached until one of these changes.
"""

from dataclasses import dataclass

from django.db.models import Count

from batches.models import Status
from core.cache import cached_data

from .membership import member_batches
from .models import PoolBatch
from .settlement import GradeRate, GrowerSettlement, settle_with_rates

DEPENDS_ON = ("pools", "batches", "pallets", "payments", "growers")


@dataclass
class PoolSummary:
    batches_by_status: dict[str, int]
    rates: list[GradeRate]
    growers: list[GrowerSettlement]
    held_elsewhere: int  # batches a closed pool already holds: closing this one is refused while there are any

    @property
    def batches(self):
        return sum(self.batches_by_status.values())

    def total(self, name):
        return sum((getattr(grower, name) for grower in self.growers), 0)


def pool_summary(pool):
    """The page's figures of `pool`, from the cache while nothing they read has changed."""
    return cached_data("pool_summary", DEPENDS_ON, [pool.pk], lambda: _build(pool))


def _build(pool):
    by_status = dict(member_batches(pool).order_by().values("status").annotate(n=Count("id"))
                     .values_list("status", "n"))
    held = 0
    if pool.is_open:
        held = PoolBatch.objects.filter(batch__in=member_batches(pool)).exclude(pool=pool).count()
    rates, growers = settle_with_rates(pool)
    return PoolSummary(
        batches_by_status={status.label: by_status.get(status.value, 0) for status in Status},
        rates=rates, growers=growers, held_elsewhere=held,
    )
