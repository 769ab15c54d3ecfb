"""Lookups Django does not have."""

from django.db.models import Lookup


class AnyOf(Lookup):
    """`column = ANY(%s)` with the ids as one array parameter: `filter(AnyOf(F("batch_id"), ids))`.

    The same index scan as `column IN (...)`, but `__in` sends one placeholder per id: for the 5,000 batches
    of a grower's trace psycopg spent longer splitting and quoting that statement than PostgreSQL took to run
    it (docs/PERFORMANCE.md). Not registered on any field: used where a list can be that long.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [sorted(value)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]
