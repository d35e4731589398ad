"""`/exports/latest/`: the newest nightly package, its descriptor and its files."""

from __future__ import annotations

import hashlib

from django.http import FileResponse, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from chronicle.errors import error_response

from . import packages

CONTENT_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8; header=present",
    ".ndjson": "application/x-ndjson",
    ".gz": "application/gzip",
}
MAX_AGE_SECONDS = 3600


@require_safe
def latest(request, name: str = packages.DESCRIPTOR) -> HttpResponse:
    package = packages.latest_package()
    if package is None:
        return error_response(404, "not_found", "No package has been written yet; the first comes tonight.")
    if name != packages.DESCRIPTOR and name not in packages.FILES.values():
        return error_response(404, "not_found", f"A package has no file {name!r}; see {packages.DESCRIPTOR}.")
    path = package / name
    modified = int(path.stat().st_mtime)
    # A package's files never change: its name and the file's name identify the bytes.
    etag = '"' + hashlib.sha256(f"{package.name}/{name}".encode()).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[path.suffix])
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return response
