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
