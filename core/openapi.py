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
