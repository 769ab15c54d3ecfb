from django.http import HttpResponseNotFound, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults


def unknown_host(request):
    """The page for a host that serves no company.

    Rendered without the request: no context processor, no session, no
    database, and never Django's debug page.
    """
    return HttpResponseNotFound(render_to_string("errors/unknown_host.html"))


def _wants_json(request):
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /api/, our own page elsewhere. Never a traceback."""
    if _wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side. It has been logged; try again.", "code": "server_error"},
            status=500,
        )
    return defaults.server_error(request)


def list_query(request):
    """The current list's query string, for page and sort links that keep the filters."""
    without_page = request.GET.copy()
    without_page.pop("page", None)
    without_ordering = without_page.copy()
    without_ordering.pop("ordering", None)
    return {
        "query_without_page": without_page.urlencode(),
        "query_without_ordering": without_ordering.urlencode(),
        "query": without_page.urlencode(),
        "ordering": request.GET.get("ordering", ""),
    }
