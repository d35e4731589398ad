"""Conditional GET: ETag and Last-Modified derived from the data an answer shows.

Validators come from event positions and record times, never from the clock, so an
unchanged answer keeps its ETag across processes, restarts and read-model rebuilds.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.utils.cache import get_conditional_response
from django.utils.http import http_date


def etag_for(request, *parts) -> str:
    text = "|".join([request.get_full_path(), *map(str, parts)])
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def not_modified(request, etag: str, last_modified: datetime | None):
    """A 304 if the client's copy is current, else None."""
    timestamp = int(last_modified.timestamp()) if last_modified else None
    response = get_conditional_response(request, etag=etag, last_modified=timestamp)
    if response is not None:
        _set_validators(response, etag, last_modified)
    return response


def with_validators(response, etag: str, last_modified: datetime | None):
    _set_validators(response, etag, last_modified)
    # Caches may keep the answer but must ask again before reusing it: publications are
    # visible at once, and a revalidation costs one indexed query.
    response["Cache-Control"] = "no-cache"
    return response


def _set_validators(response, etag: str, last_modified: datetime | None) -> None:
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
