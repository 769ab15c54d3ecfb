import factory

from growers import services
from growers.models import Grower


class GrowerFactory(factory.django.DjangoModelFactory):
    """Growers made the way the app makes them: through the service."""

    class Meta:
        model = Grower

    code = factory.Sequence(lambda n: f"G{n:04d}")
    name = factory.Sequence(lambda n: f"Farm {n}")
    region = "Ceres"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.create_grower(**kwargs)


def block_for(grower, fruit_type="apple", variety="Gala"):
    """The grower's block of this fruit and variety, made (with a farm) the first time it is asked for."""
    farm = grower.farms.filter(code=f"{grower.code}-F1").first() or services.create_farm(
        grower=grower, code=f"{grower.code}-F1", name=f"{grower.name} home farm", region=grower.region,
    )
    block = farm.blocks.filter(fruit_type=fruit_type, variety=variety).first()
    return block or services.create_block(
        farm=farm, code=f"B{farm.blocks.count() + 1:02d}", fruit_type=fruit_type, variety=variety,
    )
