from decimal import Decimal

from batches.tests.factories import packed_batch
from dispatch import services
from packhouses.tests.factories import PackhouseFactory
from pallets import services as pallet_services


def closed_pallet(packhouse, lines):
    """A closed pallet of `packhouse` holding `lines`: [(batch, grade, kg)]."""
    pallet = pallet_services.build_pallet(packhouse)
    for batch, grade, kg in lines:
        pallet_services.add_line(pallet, batch=batch, grade=grade, cartons=10, kg=Decimal(kg))
    return pallet_services.close(pallet)


def whole_batch_pallets(packhouse, batch=None):
    """A packed batch (3,000 / 400 / 50 kg) wholly on two closed pallets."""
    batch = batch or packed_batch(packhouse=packhouse)
    one = closed_pallet(packhouse, [(batch, "class1", "3000")])
    two = closed_pallet(packhouse, [(batch, "class2", "400"), (batch, "class3", "50")])
    return batch, one, two


def load_with(packhouse, pallets, **fields):
    load = services.create_load(packhouse=packhouse, **fields)
    for pallet in pallets:
        services.add_pallet(load, pallet.sscc)
    return load


def world():
    packhouse = PackhouseFactory()
    batch, one, two = whole_batch_pallets(packhouse)
    return packhouse, batch, one, two
