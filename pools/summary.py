"""The figures of a pool's page: a fixed number of aggregate queries, whatever its growers and batches."""

from dataclasses import dataclass

from django.db.models import Count

from batches.models import Status

from .membership import member_batches
from .models import PoolBatch
from .settlement import GradeRate, GrowerSettlement, grade_rates, grower_quantities, income_by_grade, settle


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
    by_status = dict(member_batches(pool).order_by().values("status").annotate(n=Count("id"))
                     .values_list("status", "n"))
    held = 0
    if pool.is_open:
        held = PoolBatch.objects.filter(batch__in=member_batches(pool)).exclude(pool=pool).count()
    growers = settle(pool)
    return PoolSummary(
        batches_by_status={status.label: by_status.get(status.value, 0) for status in Status},
        rates=grade_rates(pool, grower_quantities(pool), income_by_grade(pool)),
        growers=growers, held_elsewhere=held,
    )
