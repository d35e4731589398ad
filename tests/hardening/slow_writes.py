"""A Celery app for a worker that pauses one feed write between its temporary file and the
rename, so a test can kill it there: `celery -A tests.hardening.slow_writes worker`.

CHRONICLE_TEST_SLOW_FILE names the feed file (e.g. "all.atom"); the worker touches
CHRONICLE_TEST_PAUSED once the temporary file is complete, then sleeps before renaming.
"""

import os
import time
from pathlib import Path

from config.celery_app import app

__all__ = ["app"]

_replace = os.replace


def _paused_replace(source, destination, **kwargs):
    if str(source).endswith(".tmp") and Path(destination).name == os.environ["CHRONICLE_TEST_SLOW_FILE"]:
        Path(os.environ["CHRONICLE_TEST_PAUSED"]).touch()
        time.sleep(120)
    _replace(source, destination, **kwargs)


os.replace = _paused_replace
