"""Schemathesis against the live schema: generated requests to every operation, in process
through the WSGI app, anonymous and with a partner's API key, must never get a server error,
a status code the schema does not document, or a response the schema does not allow."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chronicle.api.models import ApiKey
from chronicle.developments import commands
from config.wsgi import application

EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def generous_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "100000/minute", "partner": "100000/minute"},
    }
    settings.DIGEST_SUBSCRIBE_RATE = "100000/hour"


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI app; like Django's test client, keep the test's
    transaction open across them instead of closing the connection after each."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_server_error_and_no_response_outside_the_schema(
    seed, editor, partner, generous_rates, keep_test_connection
):
    commands.retract_development(commands.development_id_for(seed[0]["key"]), "A test retraction.", actor=editor)
    _, secret = ApiKey.issue(name="schemathesis", owner=partner)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(operation.method.upper(), operation.path) for operation in operations} >= {
        ("GET", "/api/v1/developments/"),
        ("GET", "/api/v1/developments/{identifier}/"),
        ("GET", "/api/v1/developments/{identifier}/history/"),
        ("GET", "/api/v1/events/"),
        ("GET", "/api/v1/topics/"),
        ("GET", "/api/v1/countries/"),
        ("GET", "/api/v1/actors/"),
        ("POST", "/api/v1/subscriptions/"),
    }

    for operation in operations:
        for headers in ({}, {"Authorization": f"Api-Key {secret}"}):
            run_checks(operation, headers)


def run_checks(operation, headers: dict) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    check()
