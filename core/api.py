"""API plumbing shared by every app: JSON errors and the error schema."""

import logging
import re

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .errors import Conflict
from .idempotency import KEY_MAX_LENGTH
from .views import (
    RETRY_AFTER,
    SERVICE_UNAVAILABLE,
    STATEMENT_TIMED_OUT,
    TOO_LARGE,
    database_is_down,
    statement_timed_out,
)

log = logging.getLogger(__name__)



def idempotency_key_parameter(thing):
    """The Idempotency-Key header of a POST that creates `thing`, for the schema."""
    return OpenApiParameter(
        "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
        description=f"Any unique string up to {KEY_MAX_LENGTH} characters. Sending the same key "
                    f"again returns the first {thing} (200) and creates nothing; the same key with a different "
                    f"{thing} is a 409.",
    )


def idempotency_key(request):
    """The request's Idempotency-Key header, or None; a 400 when it is too long."""
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key and len(key) > KEY_MAX_LENGTH:
        raise exceptions.ValidationError(
            {"Idempotency-Key": [f"Use at most {KEY_MAX_LENGTH} characters."]}
        )
    return key


def _field_errors(detail):
    if isinstance(detail, dict):
        return {key: [str(m) for m in (value if isinstance(value, list) else [value])] for key, value in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def _django_validation_to_drf(exc):
    if hasattr(exc, "error_dict"):
        detail = {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    else:
        detail = {"non_field_errors": exc.messages}
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    """Every error is JSON: {detail, code, errors?}. Service errors map to 400 and 409, a lost database to 503."""
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, ProtectedError):
        return Response(
            {"detail": "Other records still refer to this one, so it cannot be removed.", "code": "protected"},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        log.warning("integrity error reached the API: %s", exc)
        return Response(
            {"detail": "The change conflicts with data saved at the same moment. Reload and try again.",
             "code": "conflict"},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        # Django's answer would be a 400 page (with DEBUG on, its debug page): neither JSON nor the right status.
        return Response(TOO_LARGE, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)

    response = drf_exception_handler(exc, context)
    if response is None:
        # Only what would otherwise be a 500 is looked at for a lost database.
        if statement_timed_out(exc):
            log.error("statement cancelled: %s", exc)
            set_rollback()
            return Response(STATEMENT_TIMED_OUT, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        if database_is_down(exc):
            log.error("database unavailable: %s", exc)
            set_rollback()
            return Response(SERVICE_UNAVAILABLE, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": RETRY_AFTER})
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": "The request has invalid input; see errors.",
            "code": "invalid",
            "errors": _field_errors(exc.detail),
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = {
            "detail": str(detail.get("detail", detail) if isinstance(detail, dict) else detail),
            "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error"),
        }
    return response


ERROR_RESPONSES = {
    "400": "Invalid input: a body field, a filter, limit or offset. `errors` says which and why.",
    "401": "No valid token: missing, expired, revoked, or minted for another company.",
    "403": "Your role may not do this.",
    "404": "No such object in this company.",
    "409": "Conflict: someone else is changing the same object, or the request contradicts saved data.",
    "413": "The body is larger than the server reads (DATA_UPLOAD_MAX_MEMORY_SIZE).",
    "414": "The URL is longer than the server reads.",
    "429": "Too many requests from this user or address; `Retry-After` says how many seconds to wait.",
}
RETRY_AFTER_HEADER = {
    "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait before retrying."},
}


def _shape(path):
    # The generator's endpoints name a path parameter as the URL pattern does ({pk}), the schema may not ({id}).
    return re.sub(r"{[^}]*}", "{}", path)


def _throttled(generator):
    """(path, method) of the operations that a throttle applies to: the others never answer 429."""
    throttled = set()
    for path, _regex, method, callback in generator.endpoints or []:
        view = callback.cls
        if getattr(callback, "initkwargs", {}).get("throttle_classes", view.throttle_classes):
            throttled.add((_shape(path), method.lower()))
    return throttled


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the JSON error body on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "required": ["detail", "code"],
        "properties": {
            "detail": {"type": "string", "description": "What went wrong, in a sentence."},
            "code": {"type": "string", "description": "Machine-readable code, e.g. invalid, not_found, conflict."},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "For 400: messages per field ('non_field_errors' for the whole request).",
            },
        },
    }
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    throttled = _throttled(generator)
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            # Any request can be too long for the server to read (nginx and gunicorn also refuse one).
            wanted = ["400", "414"]
            if "security" in operation:
                # Not the token endpoints: open to anyone, they declare their own 401.
                wanted += ["401", "403"]
            if "{" in path:
                wanted.append("404")
            if method in ("post", "put", "patch"):
                wanted.append("413")
                if "security" in operation:
                    wanted.append("409")
            if (_shape(path), method) in throttled:
                wanted.append("429")
            for code in wanted:
                response = responses.setdefault(code, {"description": ERROR_RESPONSES[code]})
                response.setdefault("content", error_body)
                if code == "429":
                    response.setdefault("headers", RETRY_AFTER_HEADER)
    return result
