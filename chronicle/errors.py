"""The one JSON error shape of every answer under /api/:

    {"error": {"code": "invalid", "message": "…", "fields": {"country": ["…"]}}}

`code` is stable and machine-readable, `message` is a sentence for people, `fields` maps
each bad parameter or body field to its problems (empty when no field is at fault).
"""

from __future__ import annotations

from django.http import JsonResponse


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(status_code: int, code: str, message: str) -> JsonResponse:
    """The same shape from a plain Django view or middleware (e.g. an unknown address under /api/)."""
    return JsonResponse(error_body(code, message), status=status_code)
