import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from chronicle.developments import importing

SEED_PATH = settings.BASE_DIR / "fixtures" / "seed_chronicle.json"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def seed(db):
    """The seed chronicle, loaded through the command layer; returns its records as in the file."""
    importing.load(importing.read_import_file(SEED_PATH), source_name=SEED_PATH.name)
    return json.loads(SEED_PATH.read_text())["developments"]


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]
