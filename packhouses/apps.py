from django.apps import AppConfig


class PackhousesConfig(AppConfig):
    name = "packhouses"
