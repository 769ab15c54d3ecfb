from django.apps import AppConfig


class GrowersConfig(AppConfig):
    name = "growers"

    def ready(self):
        from core import warmers

        # The list's first page as clients ask for it (manage.py warm_cache).
        warmers.register_page("/api/growers/", "growers.view_grower")
