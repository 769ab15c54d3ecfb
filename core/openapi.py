"""drf-spectacular postprocessing hooks of our own (core.api.add_error_responses is the other)."""


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
            if node.get("format") == "decimal" and isinstance(pattern, str) and pattern.startswith("^-?\\d{0,"):
                node["pattern"] = pattern.replace("\\d{0,", "\\d{1,", 1)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
