from django.apps import AppConfig


class PoolsConfig(AppConfig):
    name = "pools"

    def ready(self):
        from batches.signals import before_correction

        from .services import refuse_correction_in_a_closed_pool

        before_correction.connect(refuse_correction_in_a_closed_pool, dispatch_uid="pools.refuse_correction")
