import datetime as dt
from decimal import Decimal

import factory

from batches import services
from batches.models import Batch
from growers.models import FruitType
from growers.tests.factories import GrowerFactory, block_for
from packhouses.tests.factories import PackhouseFactory


class BatchFactory(factory.django.DjangoModelFactory):
    """An intake recorded through services.record_intake, so it has its code and history."""

    class Meta:
        model = Batch

    grower = factory.SubFactory(GrowerFactory)
    packhouse = factory.SubFactory(PackhouseFactory)
    fruit_type = FruitType.APPLE
    variety = "Gala"
    harvest_date = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=2))
    bin_count = 10
    gross_weight_kg = Decimal("4000.00")
    tare_weight_kg = Decimal("500.00")
    # A factory records what the test asks for, however unusual (tests of the check pass False).
    confirm_unusual = True

    @classmethod
    def _create(cls, model_class, **kwargs):
        if kwargs.get("block") is None:
            kwargs["block"] = block_for(kwargs.pop("grower"), kwargs.pop("fruit_type"), kwargs.pop("variety"))
        else:
            for name in ("grower", "fruit_type", "variety"):
                kwargs.pop(name, None)
        return services.record_intake(**kwargs)


def packed_batch(**kwargs):
    """A batch moved all the way to 'packed' with a pack-out of 3,000 kg class 1 and 400 kg class 2."""
    batch = BatchFactory(**kwargs)
    batch = services.transition(batch, "grading")
    batch = services.record_packout(
        batch, class1_kg=Decimal("3000"), class2_kg=Decimal("400"), class3_kg=Decimal("50"), waste_kg=Decimal("50"),
    )
    batch = services.transition(batch, "packing")
    return services.transition(batch, "packed")


def with_block(values):
    """Intake arguments in the old shape (grower, fruit_type, variety) turned into the block's."""
    values = dict(values)
    if values.get("block") is None:
        values["block"] = block_for(values.pop("grower"), values.pop("fruit_type"), values.pop("variety"))
    return values
