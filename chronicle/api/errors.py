"""The API's errors in the one JSON error shape of `chronicle.errors`, for every DRF view
(REST_FRAMEWORK["EXCEPTION_HANDLER"])."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from chronicle.errors import error_body


def exception_handler(exc, context):
    # Django refuses an oversized body while the view reads it; answer in the API's shape.
    if isinstance(exc, RequestDataTooBig):
        message = f"The request body is larger than the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        return Response(error_body("too_large", message), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        message = f"The request has more than the limit of {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."
        return Response(error_body("too_many_fields", message), status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a real bug, which must surface as one
    if response.status_code == status.HTTP_404_NOT_FOUND:
        code, message, fields = "not_found", _message(response.data) or "Not found.", {}
    elif isinstance(exc, exceptions.ValidationError):
        fields = field_errors(exc.detail)
        code = "invalid"
        message = _validation_message(fields)
    else:
        code = getattr(exc, "default_code", "error")
        message, fields = _message(response.data) or str(exc), {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            # One number for people and programs: whole seconds, rounded up.
            seconds = max(1, math.ceil(exc.wait))
            response["Retry-After"] = str(seconds)
            message = f"Too many requests; retry in {seconds} second{'s' if seconds != 1 else ''}."
    response.data = error_body(code, message, fields)
    return response


def _message(data) -> str:
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return ""


def field_errors(detail) -> dict[str, list[str]]:
    """DRF validation details as field → flat list of messages (the `fields` of an error)."""
    if isinstance(detail, dict):
        result: dict[str, list[str]] = {}
        for name, problems in detail.items():
            key = "request" if name == "non_field_errors" else str(name)
            result.setdefault(key, []).extend(_flatten(problems))
        return result
    return {"request": _flatten(detail)}


def _flatten(problems) -> list[str]:
    if isinstance(problems, dict):
        # A list parameter reports problems by index; the message already quotes the value.
        return [
            text if isinstance(name, int) else f"{name}: {text}"
            for name, value in problems.items()
            for text in _flatten(value)
        ]
    if isinstance(problems, list):
        return [text for item in problems for text in _flatten(item)]
    return [str(problems)]


def _validation_message(fields: dict[str, list[str]]) -> str:
    if list(fields) == ["request"]:
        return " ".join(fields["request"])
    if len(fields) == 1:
        ((name, problems),) = fields.items()
        return f"{name}: {' '.join(problems)}"
    return "Some values are not valid: " + "; ".join(f"{name}: {' '.join(p)}" for name, p in fields.items())


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: invalid, not_found, throttled, …")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each parameter or field at fault, with its problems.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
