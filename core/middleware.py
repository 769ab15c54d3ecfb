from django.http import HttpResponseNotAllowed

from . import health

HEALTH_ENDPOINTS = {"/health": health.live, "/health/ready": health.ready}


class HealthCheckMiddleware:
    """Answers /health and /health/ready before tenant routing, on any host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        endpoint = HEALTH_ENDPOINTS.get(request.path_info.rstrip("/") or "/")
        if endpoint is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return endpoint()
