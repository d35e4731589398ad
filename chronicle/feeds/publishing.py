"""Keep the feed files in step with the public events.

In the transaction that records a public event, `tasks.mark_affected_feeds` marks each feed
it touches as queued; once it commits, one task goes out per feed that was not already
waiting, so a burst of publications coalesces into one regeneration per feed. The task claims
the feed before reading, so an event that commits after the claim queues a fresh run. If the
broker is down, publishing still succeeds; `publish_stale` (a beat task) finds the feeds that missed an event by
comparing positions, and `publish_all` (a beat task too, and `manage.py publish_feeds`)
rewrites everything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from chronicle import published
from chronicle.developments.models import PublicRevision

from . import rendering
from .catalog import Feed, affected_feeds, every_feed
from .models import FeedsCursor, FeedState

logger = logging.getLogger(__name__)

CURSOR = "stale-feeds"
# A temporary file this old is a leftover of a killed write, not one in progress.
STALE_TEMPORARY_SECONDS = 600


def regenerate(path: str) -> bool:
    """Rewrite one feed's files from the read models; return whether any file changed."""
    feed = Feed.from_path(path)
    if feed is None:
        raise ValueError(f"There is no feed at {path!r}.")
    FeedState.objects.get_or_create(path=path)
    # Claim before reading: an event committed from now on queues another run.
    FeedState.objects.filter(path=path).update(queued=False)
    position = published.latest_position()
    changed = [
        extension
        for extension, content in rendering.render(feed).items()
        if write_atomically(Path(settings.FEEDS_ROOT) / f"{path}.{extension}", content)
    ]
    FeedState.objects.filter(path=path, built_position__lt=position).update(built_position=position)
    if changed and settings.FEEDS_WEBSUB_HUB:
        ping_hub([feed.url(extension) for extension in changed])
    return bool(changed)


def publish_stale() -> int:
    """Regenerate the feeds that missed a public event since the last pass; return how many."""
    cursor, new = FeedsCursor.objects.get_or_create(name=CURSOR)
    if new:
        return publish_all()[0]
    position = published.latest_position(settle=True)
    stale = stale_feeds(PublicRevision.objects.filter(position__gt=cursor.position, position__lte=position))
    for path in stale:
        regenerate(path)
    FeedsCursor.objects.filter(name=CURSOR, position__lt=position).update(position=position)
    return len(stale)


def stale_feeds(revisions) -> list[str]:
    """The feeds that `revisions` touch and whose last build predates them."""
    wanted = affected_feeds(revisions.only("position", "development_id", "kind", "content").iterator())
    built = dict(FeedState.objects.filter(path__in=wanted).values_list("path", "built_position"))
    return [path for path, needed in sorted(wanted.items()) if built.get(path, 0) < needed]


def publish_all(on_progress: Callable[[], None] | None = None) -> tuple[int, int]:
    """Regenerate every feed now; return (feeds, feeds whose files changed)."""
    position = published.latest_position(settle=True)
    feeds = every_feed()
    changed = 0
    for feed in feeds:
        changed += regenerate(feed.path)
        if on_progress:
            on_progress()
    FeedsCursor.objects.get_or_create(name=CURSOR)
    FeedsCursor.objects.filter(name=CURSOR, position__lt=position).update(position=position)
    return len(feeds), changed


def write_atomically(path: Path, content: bytes) -> bool:
    """Write `content` to `path` through a temporary file and a rename, so readers see the
    old file or the new one, never a part. Unchanged content is not rewritten, which keeps
    Last-Modified and ETag of an unchanged feed stable. Return whether the file changed."""
    _remove_stale_temporaries(path)
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; the web server must read it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _remove_stale_temporaries(path: Path) -> None:
    """A worker killed between writing and renaming leaves its temporary file behind;
    without this, every such crash would leave one more."""
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def ping_hub(urls: list[str]) -> None:
    """Tell the WebSub hub these feeds changed; a hub that is down only delays readers."""
    for url in urls:
        data = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode()
        request = urllib.request.Request(settings.FEEDS_WEBSUB_HUB, data=data, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (the hub URL is a setting)
                pass
        except OSError:
            logger.warning("WebSub hub %s did not take the ping for %s", settings.FEEDS_WEBSUB_HUB, url)
