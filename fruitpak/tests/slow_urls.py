"""The company URLs plus two views whose statement outlives a tiny statement_timeout (test_runaway_queries.py)."""

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from fruitpak.urls import handler404, handler500  # noqa: F401
from fruitpak.urls import urlpatterns as company_urlpatterns


def _sleep_past_the_timeout():
    # SET LOCAL: the limit ends with this savepoint, and the test's own transaction goes on.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '50ms'")
        cursor.execute("SELECT pg_sleep(5)")


def slow_page(request):
    _sleep_past_the_timeout()
    return HttpResponse("never")


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def slow_api(request):
    _sleep_past_the_timeout()
    return Response({"never": True})


urlpatterns = [path("slow/", slow_page), path("api/slow/", slow_api), *company_urlpatterns]
