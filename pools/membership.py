"""Which batches a pool holds: the variety-beats-blank rule for an open pool, pool_batches for a closed one."""

from django.db.models import Exists, OuterRef

from batches.models import Batch

from .models import Pool, PoolBatch, PoolStatus


def member_batches(pool):
    """The pool's batches as a queryset (one SQL statement, to aggregate over).

    Open: the season's batches of the pool's fruit whose variety is the pool's; a blank-variety pool takes
    those whose variety has no pool of its own in the season (as a variety price agreement beats a blank one).
    Batches a closed pool already holds are never taken again.
    """
    if pool.status == PoolStatus.CLOSED:
        return Batch.objects.filter(pool_membership__pool=pool)
    batches = Batch.objects.filter(season_id=pool.season_id, fruit_type=pool.fruit_type)
    if pool.variety:
        batches = batches.filter(variety=pool.variety)
    else:
        batches = batches.exclude(Exists(Pool.objects.filter(
            season_id=OuterRef("season_id"), fruit_type=OuterRef("fruit_type"), variety=OuterRef("variety"),
        )))
    return batches.exclude(Exists(PoolBatch.objects.filter(batch=OuterRef("pk")).exclude(pool=pool)))
