import pytest
from django.utils.http import http_date

from chronicle.feeds import publishing
from tests.factories import published_development

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(curator, editor):
    development_id = published_development(curator, editor)
    publishing.regenerate("all")
    return development_id


@pytest.mark.parametrize(
    ("extension", "content_type"),
    [
        ("atom", "application/atom+xml; charset=utf-8"),
        ("rss", "application/rss+xml; charset=utf-8"),
        ("json", "application/feed+json; charset=utf-8"),
    ],
)
def test_feeds_are_served_with_their_type_etag_and_last_modified(client, published, extension, content_type):
    response = client.get(f"/feeds/all.{extension}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["ETag"].startswith('"') and response["Last-Modified"]
    assert f"urn:uuid:{published}".encode() in response.content


def test_a_conditional_get_answers_304_until_the_feed_changes(client, published, curator, editor):
    first = client.get("/feeds/all.atom")
    again = client.get("/feeds/all.atom", headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    since = client.get("/feeds/all.atom", headers={"if-modified-since": first["Last-Modified"]})
    assert since.status_code == 304

    published_development(curator, editor, slug="a-second-one")
    publishing.regenerate("all")
    changed = client.get("/feeds/all.atom", headers={"if-none-match": first["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_an_old_if_modified_since_gets_the_feed(client, published):
    response = client.get("/feeds/all.rss", headers={"if-modified-since": http_date(0)})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["/feeds/countries/zz.atom", "/feeds/topics/no-such-topic.rss", "/feeds/countries/ru.json"]
)
def test_unknown_or_unpublished_feeds_are_404(client, published, path):
    assert client.get(path).status_code == 404


def test_feeds_refuse_writes(client, published):
    assert client.post("/feeds/all.atom").status_code == 405
