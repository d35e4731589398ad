"""Serve the feed files on the embedded default; in docker-compose nginx serves them
(deploy/nginx.conf) and these views are not reached."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from .catalog import FORMATS, Feed


@require_safe
def feed_file(request, path: str, extension: str):
    feed = Feed.from_path(path)
    if feed is None or extension not in FORMATS:
        raise Http404("There is no such feed.")
    try:
        file = Path(settings.FEEDS_ROOT) / f"{feed.path}.{extension}"
        content = file.read_bytes()
        modified = int(file.stat().st_mtime)
    except FileNotFoundError:
        raise Http404("This feed has not been published yet.") from None
    # A strong ETag from the bytes: output is deterministic, so it only moves when they do.
    etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = HttpResponse(content, content_type=FORMATS[extension])
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(modified)
    response.headers["Cache-Control"] = f"public, max-age={settings.FEEDS_MAX_AGE}"
    return response
