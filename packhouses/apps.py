from django.apps import AppConfig


class PackhousesConfig(AppConfig):
    name = "packhouses"

    def ready(self):
        from core import warmers

        # The list's first page as clients ask for it (manage.py warm_cache).
        warmers.register_page("/api/packhouses/", "packhouses.view_packhouse")
