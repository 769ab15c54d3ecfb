import factory

from packhouses import services
from packhouses.models import Packhouse


class PackhouseFactory(factory.django.DjangoModelFactory):
    """Packhouses made the way the app makes them: through the service."""

    class Meta:
        model = Packhouse

    code = factory.Sequence(lambda n: f"PH{n + 1}")
    name = factory.Sequence(lambda n: f"Packhouse {n + 1}")
    region = "Ceres"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.create_packhouse(**kwargs)
