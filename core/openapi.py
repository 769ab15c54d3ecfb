"""drf-spectacular pieces of our own: the schema class and postprocessing hooks (core.api.add_error_responses
is another hook)."""

from decimal import Decimal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from . import periods


def positive_decimal_pattern(whole_digits, places):
    """A decimal string above zero with at most `whole_digits` digits before the point and `places` after it.

    Either the whole part has a digit other than 0, or it is all zeros and the fraction has one.
    """
    fraction = "|".join(f"0{{{k}}}[1-9]\\d{{0,{places - 1 - k}}}" for k in range(places))
    return f"^(?:0*[1-9]\\d{{0,{whole_digits - 1}}}(?:\\.\\d{{0,{places}}})?|0*\\.(?:{fraction}))$"


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, plus the sign rules of decimal strings, which it leaves out of the pattern.

    A decimal is a string here (COERCE_DECIMAL_TO_STRING), and drf-spectacular states its `min_value` nowhere,
    so "-5" kg or a price of "0" looked valid and were refused. A field with `min_value` 0 gets a pattern
    without a sign; one whose `min_value` is its smallest step (0.0001 with four places) a pattern above zero.
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            isinstance(field, serializers.DecimalField) and schema.get("format") == "decimal"
            and "pattern" in schema and field.min_value is not None and field.max_whole_digits
        ):
            step = Decimal(1).scaleb(-field.decimal_places)
            if field.decimal_places and Decimal(field.min_value) == step:
                schema["pattern"] = positive_decimal_pattern(field.max_whole_digits, field.decimal_places)
            elif Decimal(field.min_value) >= 0:
                schema["pattern"] = schema["pattern"].replace("^-?", "^", 1)
        return schema


def allow_empty_query_values(result, generator, request, public):
    """Document what the API does with an empty optional query parameter (`?grower=`): it counts as not given.

    The filters (django-filter), the pagination and the reconciliation parameters all read it so, as the
    pages do for a form field left blank. Without this, clients and schemathesis take `?offset=` to be invalid.
    """
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def require_decimal_digits(result, generator, request, public):
    """A decimal string must have a digit before any point: drf-spectacular's pattern (`\\d{0,8}`) lets "" and
    "-" through, which the server refuses ("A valid number is required."), so generated requests that looked
    valid were 400s."""

    def walk(node):
        if isinstance(node, dict):
            pattern = node.get("pattern")
            unsigned_or_not = ("^-?\\d{0,", "^\\d{0,")
            if node.get("format") == "decimal" and isinstance(pattern, str) and pattern.startswith(unsigned_or_not):
                node["pattern"] = pattern.replace("\\d{0,", "\\d{1,", 1)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


# Every year from 2000 to 2099, and no other: the range periods.EARLIEST..LATEST, in a pattern a schema can state.
BOUNDED_DATE_PATTERN = r"^20\d\d-\d\d-\d\d$"
assert (periods.EARLIEST, periods.LATEST) == (periods.date(2000, 1, 1), periods.date(2099, 12, 31))


def bound_query_dates(result, generator, request, public):
    """A date a request asks for is within 2000-01-01..2099-12-31 (core/periods.py): say so for every date in a
    query string, or a year like 1746 looked valid and was a 400. Dates in bodies are not bounded so."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("format") == "date":
                    schema["pattern"] = BOUNDED_DATE_PATTERN
    return result


def refuse_nul_in_query_strings(result, generator, request, public):
    """No query value may hold a NUL (core.middleware answers a 400 before any view, as PostgreSQL cannot store
    one): say so for every free-text query parameter, or `?q=a%00b` looked valid."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if (parameter.get("in") == "query" and schema.get("type") == "string"
                        and not {"enum", "pattern", "format"} & schema.keys()):
                    schema["pattern"] = "^[^\\u0000]*$"
    return result
