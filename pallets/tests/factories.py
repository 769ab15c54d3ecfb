from batches.tests.factories import packed_batch
from packhouses.tests.factories import PackhouseFactory
from pallets import services


def pallet_with_batch(packhouse=None, by=None):
    """An open pallet and a packed batch of the same packhouse (3,000 kg class 1, 400 kg class 2)."""
    packhouse = packhouse or PackhouseFactory()
    batch = packed_batch(packhouse=packhouse)
    return services.build_pallet(packhouse, by=by), batch
