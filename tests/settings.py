"""The settings the test suite runs with: Chronicle's own, on the embedded default with DEBUG on
(as `bin/run` has it). Tests of production settings start `manage.py` with their own environment."""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: F403
