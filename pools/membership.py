"""Which batches a pool holds: the variety-beats-blank rule for an open pool, pool_batches for a closed one."""

from django.db.models import Exists, OuterRef

from batches.models import Batch

from .models import Pool, PoolStatus


def member_batches(pool):
    """The pool's batches as a queryset (one SQL statement, to aggregate over).

    Open: the season's batches of the pool's fruit whose variety is the pool's; a blank-variety pool takes
    those whose variety has no pool of its own in the season (as a variety price agreement beats a blank one).
    A batch that a closed pool already holds still matches here: closing refuses while there is one
    (services.close_pool), and the pool page says so, rather than letting the pool shrink unseen.
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
    return batches
