"""Filter pieces shared by the domain apps' FilterSets (one FilterSet serves the HTML list and the API)."""

import django_filters


class StableOrderingFilter(django_filters.OrderingFilter):
    """`ordering=` with a whitelist; ties are broken by id so pages never overlap or skip rows."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            last = value[-1]
            qs = qs.order_by(*qs.query.order_by, "-pk" if last.startswith("-") else "pk")
        return qs
