import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fruitpak.settings.prod")
# A web process: its statements get DB_STATEMENT_TIMEOUT (5 s unless set; fruitpak/settings/base.py).
os.environ.setdefault("FRUITPAK_PROCESS", "web")

application = get_wsgi_application()
