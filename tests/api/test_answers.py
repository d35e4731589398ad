"""Kept answers: a public answer served from the cache is the answer built afresh, costs one
query, and is still authenticated, throttled and conditional; API-key lookups are reused
for a few seconds."""

import pytest
import redis
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis.connection import AbstractConnection

from chronicle.api.models import ApiKey
from chronicle.developments import commands
from tests.api.conftest import error_of
from tests.factories import content_data, published_development
from tests.hardening.private_redis import private_redis
from tests.services import wait_for

LIST = "/api/v1/developments/"
BIBTEX = "application/x-bibtex"


@pytest.fixture
def development_id(curator, editor):
    development_id = published_development(curator, editor, countries=["BY", "CN"], topics=["5g"])
    commands.revise_development(development_id, content_data(stage="implemented"), actor=curator)
    commands.submit_development(development_id, actor=curator)
    commands.publish_correction(development_id, "The stage was wrong.", actor=editor)
    return development_id


@pytest.fixture
def partner_key(db):
    partner = User.objects.create_user("acme", password="correct-horse-battery")
    return ApiKey.issue(name="dashboard", owner=partner)


def key_header(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}


def kept_urls(development_id) -> list[str]:
    return [
        f"{LIST}?country=BY&topic=5g",
        f"{LIST}?ordering=date&limit=1",
        f"{LIST}{development_id}/",
        f"{LIST}{development_id}/?as_of=2100-01-01T00:00:00Z",
        f"{LIST}{development_id}/history/",
        "/api/v1/timeline.json",
        "/api/v1/topics/",
        "/api/v1/countries/",
        "/api/v1/actors/",
    ]


def answer(response) -> tuple:
    return response.status_code, dict(response.items()), response.content


def test_a_kept_answer_is_the_answer_built_afresh_for_one_query(api, development_id):
    for url in kept_urls(development_id):
        built = api.get(url)
        assert built.status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            kept = api.get(url)
        assert answer(kept) == answer(built), url
        assert len(queries) == 1, f"{url}: {[q['sql'] for q in queries]}"

        etag = built["ETag"]
        cache.clear()
        afresh = api.get(url, HTTP_IF_NONE_MATCH=etag)  # built: nothing is kept for a 304
        api.get(url)
        from_cache = api.get(url, HTTP_IF_NONE_MATCH=etag)
        assert afresh.status_code == from_cache.status_code == 304, url
        assert dict(from_cache.items()) == dict(afresh.items()), url


def test_answers_are_kept_apart_by_host_and_format_and_never_past_a_publication(api, development_id, curator, editor):
    detail = f"{LIST}{development_id}/"
    for host in ("127.0.0.1:8123", "localhost"):
        (item,) = api.get(LIST, HTTP_HOST=host).json()["results"]
        assert item["url"].startswith(f"http://{host}/"), "links name the host asked"

    assert api.get(detail).json()["stage"] == "implemented"
    citation = api.get(detail, HTTP_ACCEPT=BIBTEX)
    assert citation["Content-Type"].startswith(BIBTEX) and citation.content.startswith(b"@")
    redirect = api.get(detail, HTTP_ACCEPT_DATETIME="Tue, 01 Jun 2100 09:00:00 GMT")
    assert redirect.status_code == 302 and "as_of=" in redirect["Location"]

    listed = api.get(LIST)
    published_development(curator, editor, slug="a-second-one", title="A second one")
    relisted = api.get(LIST, HTTP_IF_NONE_MATCH=listed["ETag"])
    assert relisted.status_code == 200 and relisted["ETag"] != listed["ETag"]
    assert len(relisted.json()["results"]) == 2


def test_kept_answers_are_still_authenticated_and_throttled(api, development_id, partner_key, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "2/minute", "partner": "3/minute"},
    }
    key, secret = partner_key
    url = f"{LIST}{development_id}/"
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert [api.get(url, **key_header(secret)).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert ApiKey.objects.filter(pk=key.pk).revoke()
    assert api.get(url, **key_header(secret)).status_code == 401, "revoking here takes effect at once"


def test_a_request_that_finds_its_answer_stale_is_counted_once(
    api, development_id, curator, editor, settings, django_capture_on_commit_callbacks
):
    assert_a_stale_answer_is_counted_once(
        api, development_id, curator, editor, settings, django_capture_on_commit_callbacks
    )


def assert_a_stale_answer_is_counted_once(api, development_id, curator, editor, settings, on_commit):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anonymous": "4/minute"}}
    url = f"{LIST}{development_id}/"
    assert [api.get(url).status_code for _ in range(2)] == [200, 200]  # built, then kept
    commands.revise_development(development_id, content_data(stage="cancelled"), actor=curator)
    commands.submit_development(development_id, actor=curator)
    with on_commit(execute=True):
        commands.publish_update(development_id, "Cancelled.", actor=editor)
    stale = api.get(url)  # its kept answer shows the data before the update: built afresh
    assert stale.status_code == 200 and stale.json()["stage"] == "cancelled"
    assert [api.get(url).status_code for _ in range(2)] == [200, 429], "the fourth request is the last allowed"


def test_a_key_lookup_is_reused_and_a_key_revoked_elsewhere_is_refused_within_its_time(
    api, development_id, partner_key, settings
):
    settings.API_KEY_CACHE_SECONDS = 60
    key, secret = partner_key
    url = f"{LIST}{development_id}/"
    assert api.get(url, **key_header(secret)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url, **key_header(secret)).status_code == 200
    assert not [q for q in queries if "api_apikey" in q["sql"]], "the key was looked up again"

    settings.API_KEY_CACHE_SECONDS = 1
    ApiKey.forget([key.prefix])
    assert api.get(url, **key_header(secret)).status_code == 200
    # Another web process revokes it: this one's cached lookup does not know.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    wait_for(
        lambda: api.get(url, **key_header(secret)).status_code == 401,
        timeout=10,
        explain=lambda: "the revoked key still reads the API",
    )


# -- on Redis, as in production: the version is a counter moved on commit --------------------


@pytest.fixture
def redis_cache(settings):
    with private_redis() as redis_server:
        settings.CACHES = redis_server.caches()
        yield redis_server


@pytest.mark.redis
def test_on_redis_a_kept_answer_costs_no_query_and_a_publication_is_seen_at_once(
    api, development_id, curator, editor, redis_cache, django_capture_on_commit_callbacks
):
    url = f"{LIST}{development_id}/"
    built = api.get(url)
    with CaptureQueriesContext(connection) as queries:
        kept = api.get(url)
    assert answer(kept) == answer(built)
    assert not queries, [q["sql"] for q in queries]

    commands.revise_development(development_id, content_data(stage="cancelled"), actor=curator)
    commands.submit_development(development_id, actor=curator)
    with django_capture_on_commit_callbacks(execute=True):
        commands.publish_update(development_id, "Cancelled.", actor=editor)
    changed = api.get(url, HTTP_IF_NONE_MATCH=built["ETag"])
    assert changed.status_code == 200 and changed.json()["stage"] == "cancelled"


@pytest.mark.redis
def test_a_publication_while_redis_was_away_is_seen_once_it_is_back(
    api, development_id, curator, editor, redis_cache, django_capture_on_commit_callbacks
):
    assert len(api.get(LIST).json()["results"]) == 1
    redis.Redis.from_url(redis_cache.url).save()  # Redis comes back with what it held (persistence)
    redis_cache.stop()
    with django_capture_on_commit_callbacks(execute=True):
        published_development(curator, editor, slug="while-away", title="While Redis was away")
    redis_cache.start()
    assert len(api.get(LIST).json()["results"]) == 2, "the answer kept before the publication was served"


@pytest.fixture
def round_trips(monkeypatch):
    """What this process sends to Redis: one item per round trip."""
    sent = []
    send = AbstractConnection.send_packed_command

    def counted(connection, command, *args, **kwargs):
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return sent


@pytest.mark.redis
def test_on_redis_a_kept_answer_and_its_throttle_count_cost_one_round_trip(
    api, development_id, partner_key, redis_cache, round_trips
):
    _, secret = partner_key
    for url in kept_urls(development_id):
        for caller in ({}, key_header(secret)):  # anonymous, then a partner
            built = api.get(url, **caller)
            assert built.status_code == 200, url
            round_trips.clear()
            assert answer(api.get(url, **caller)) == answer(built), url
            assert len(round_trips) == 1, f"{url}: {round_trips}"

            round_trips.clear()
            assert api.get(url, HTTP_IF_NONE_MATCH=built["ETag"], **caller).status_code == 304, url
            assert len(round_trips) == 1, f"{url}: {round_trips}"


@pytest.mark.redis
def test_on_redis_the_throttle_refuses_the_request_past_the_rate_though_every_answer_is_kept(
    api, development_id, partner_key, redis_cache, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "3/minute", "partner": "4/minute"},
    }
    _, secret = partner_key
    url = f"{LIST}{development_id}/"
    assert [api.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = api.get(url)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert error_of(refused)["code"] == "throttled"
    assert [api.get(url, **key_header(secret)).status_code for _ in range(5)] == [200, 200, 200, 200, 429]

    redis_cache.stop()
    redis_cache.start()  # empty: every count starts again, at the rates settings give now
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anonymous": "2/minute"}}
    assert [api.get(url, HTTP_ACCEPT=BIBTEX).status_code for _ in range(3)] == [200, 200, 429], "never kept"
    assert api.get("/api/v1/events/?after=0").status_code == 429, "a view without kept answers"
    assert api.get(f"{LIST}{development_id}/", HTTP_ACCEPT_DATETIME="Tue, 01 Jun 2100 09:00:00 GMT").status_code == 429


@pytest.mark.redis
def test_on_redis_a_request_that_finds_its_answer_stale_is_counted_once(
    api, development_id, curator, editor, redis_cache, settings, django_capture_on_commit_callbacks
):
    assert_a_stale_answer_is_counted_once(
        api, development_id, curator, editor, settings, django_capture_on_commit_callbacks
    )


@pytest.mark.redis
def test_with_redis_away_kept_answers_are_built_afresh_and_no_one_is_throttled(
    api, development_id, redis_cache, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anonymous": "2/minute"}}
    url = f"{LIST}{development_id}/"
    built = api.get(url)
    redis_cache.stop()
    assert [answer(api.get(url)) for _ in range(3)] == [answer(built)] * 3
    redis_cache.start()
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 429], "counting resumes once Redis is back"
