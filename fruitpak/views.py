from django.http import HttpResponseNotFound
from django.template.loader import render_to_string


def unknown_host(request):
    """The page for a host that serves no company.

    Rendered without the request: no context processor, no session, no
    database, and never Django's debug page.
    """
    return HttpResponseNotFound(render_to_string("errors/unknown_host.html"))
