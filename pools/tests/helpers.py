"""Test data for pools: packed batches with a given pack-out, pools, pallets."""

from decimal import Decimal

from batches import services as batch_services
from batches.tests.factories import BatchFactory
from pools import services
from seasons.services import current_season


def packed(grower, packhouse, *, net, class1, class2, class3=0, variety="Gala", fruit_type="apple"):
    """A packed batch of `net` kg; what the classes leave is waste."""
    batch = BatchFactory(grower=grower, packhouse=packhouse, variety=variety, fruit_type=fruit_type,
                         gross_weight_kg=Decimal(net) + Decimal("500"), tare_weight_kg=Decimal("500"))
    batch = batch_services.transition(batch, "grading")
    batch = batch_services.record_packout(
        batch, class1_kg=Decimal(class1), class2_kg=Decimal(class2), class3_kg=Decimal(class3),
        waste_kg=Decimal(net) - Decimal(class1) - Decimal(class2) - Decimal(class3),
    )
    batch = batch_services.transition(batch, "packing")
    return batch_services.transition(batch, "packed")


def make_pool(code="P-APPLE", variety="", fruit_type="apple", season=None):
    return services.create_pool(season=season or current_season(), code=code, name=f"Pool {code}",
                                fruit_type=fruit_type, variety=variety)


def run_queued_closes():
    """What the job worker does with the queued closes, in the test's transaction: the closings, as run."""
    from pools.models import ACTIVE_CLOSING, PoolClosing

    return [services.run_closing(pk) for pk in
            PoolClosing.objects.filter(status__in=ACTIVE_CLOSING).order_by("id").values_list("pk", flat=True)]
