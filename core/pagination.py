"""The list envelope every API list uses: {items, total, limit, offset}."""

from django.core.exceptions import EmptyResultSet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from .cache import cached_data

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def limit_and_offset(request):
    """The page asked for by ?limit= and ?offset=, or a 400 that says why."""
    return min(_whole_number(request, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT), _whole_number(request, "offset", 0, 0)


def _whole_number(request, name, default, minimum):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ValidationError({name: [f"{name} must be a whole number of at least {minimum}; got '{raw}'."]})
    return value


class EnvelopePagination(BasePagination):
    """Limit and offset. The default limit is 50; a limit over 500 is clamped to 500.

    A limit or offset that is not a whole number, a limit under 1 or a
    negative offset is a 400 that says why. An offset past the end gives an
    empty page with the true total.

    A view over a big table names the cache namespace its rows belong to
    (`count_namespace = "batches"`): its totals are then cached under that
    namespace's generation and the exact SQL of the count, so COUNT(*) over
    a million rows runs once per write, not once per page. Every write bumps
    the generation at commit, so the total is never stale.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self.limit, self.offset = limit_and_offset(request)
        self.total = self._count(queryset, view)
        if self.offset >= self.total:
            return []
        return list(queryset[self.offset:self.offset + self.limit])

    @staticmethod
    def _count(queryset, view):
        namespace = getattr(view, "count_namespace", None)
        if namespace is None:
            return queryset.count()
        try:
            # The ids' statement names the rows as well as the whole one does, and compiles without the
            # page's annotations (a list may have a dozen).
            sql, params = queryset.values("pk").query.sql_with_params()
        except EmptyResultSet:
            return 0
        return cached_data("count", [namespace], [sql, params], queryset.count)

    def get_paginated_response(self, data):
        return Response({"items": data, "total": self.total, "limit": self.limit, "offset": self.offset})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["items", "total", "limit", "offset"],
            "properties": {
                "items": schema,
                "total": {"type": "integer", "description": "Rows matching the filters, on all pages."},
                "limit": {"type": "integer", "example": DEFAULT_LIMIT, "description": "Page size used (max 500)."},
                "offset": {"type": "integer", "example": 0},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "limit", "in": "query", "required": False,
                "description": f"Page size, 1 or more; default {DEFAULT_LIMIT}, at most {MAX_LIMIT}.",
                "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT},
            },
            {
                "name": "offset", "in": "query", "required": False,
                "description": "Rows to skip, 0 or more.",
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
        ]
