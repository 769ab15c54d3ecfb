"""Helpers that tests of every app share."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_for(client, url):
    """How many SQL statements a successful GET of `url` runs."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def form_errors(response):
    """The errors of the admin form a refused POST shows again."""
    assert response.status_code == 200, "the form should be shown again"
    return response.context["adminform"].form.errors
