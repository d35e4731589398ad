"""Memento (RFC 7089) on the development page and the API detail: TimeGate, mementos, TimeMap."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils.http import http_date

from chronicle.developments import commands
from tests.factories import published_development
from tests.feeds.helpers import revise_and_publish

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2024, 5, 1, 9, tzinfo=UTC)
CORRECTED = datetime(2024, 6, 1, 9, tzinfo=UTC)
RETRACTED = datetime(2024, 7, 1, 9, tzinfo=UTC)
PAGE = "http://testserver/developments/beltelecom-5g-2021/"
TIMEMAP = "http://testserver/developments/beltelecom-5g-2021/timemap/"
FIRST = f"{PAGE}?as_of=2024-05-01T09%3A00%3A00.000000Z"
SECOND = f"{PAGE}?as_of=2024-06-01T09%3A00%3A00.000000Z"


def links(response) -> dict[str, str]:
    """rel word → URL, for every link in the response's Link header but plain "memento"."""
    found = {}
    for url, rel in re.findall(r'<([^>]+)>; rel="([^"]+)"', response["Link"]):
        found.update({word: url for word in rel.split() if word != "memento"})
    return found


@pytest.fixture
def corrected(curator, editor):
    with time_machine.travel(PUBLISHED, tick=False):
        development_id = published_development(curator, editor, title="Beltelecom tests 5G with ZTE")
    with time_machine.travel(CORRECTED, tick=False):
        revise_and_publish(development_id, curator, editor, note="The supplier was Huawei.", title="With Huawei")
    return development_id


def test_the_page_is_a_timegate_redirecting_to_the_memento_current_then(client, corrected):
    before_correction = client.get(PAGE, HTTP_ACCEPT_DATETIME="Sat, 11 May 2024 12:00:00 GMT")
    assert before_correction.status_code == 302
    assert before_correction["Location"] == FIRST
    assert "accept-datetime" in before_correction["Vary"].lower()
    assert links(before_correction)["original"] == PAGE and links(before_correction)["timemap"] == TIMEMAP

    after = client.get(PAGE, HTTP_ACCEPT_DATETIME="Sun, 02 Jun 2024 00:00:00 GMT")
    assert after["Location"] == SECOND
    # Before the first publication: the first memento, as RFC 7089 section 4.5.3 says.
    assert client.get(PAGE, HTTP_ACCEPT_DATETIME="Mon, 01 Jan 2001 00:00:00 GMT")["Location"] == FIRST


def test_a_memento_shows_what_was_said_then_with_its_datetime_and_neighbours(client, corrected):
    response = client.get(FIRST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Beltelecom tests 5G with ZTE" in page and "With Huawei" not in page.split("<h2")[0]
    assert "as it was on" in page
    assert response["Memento-Datetime"] == http_date(PUBLISHED.timestamp()) == "Wed, 01 May 2024 09:00:00 GMT"
    found = links(response)
    assert (found["original"], found["timegate"], found["timemap"]) == (PAGE, PAGE, TIMEMAP)
    assert (found["first"], found["next"], found["last"]) == (FIRST, SECOND, SECOND)
    assert "prev" not in found

    later = client.get(SECOND)
    assert later["Memento-Datetime"] == "Sat, 01 Jun 2024 09:00:00 GMT"
    assert (links(later)["prev"], links(later)["first"]) == (FIRST, FIRST) and "next" not in links(later)
    assert "With Huawei" in later.content.decode()


def test_the_original_links_its_timegate_and_timemap(client, corrected):
    response = client.get(PAGE)
    assert response.status_code == 200 and "Memento-Datetime" not in response
    assert "accept-datetime" in response["Vary"].lower()
    found = links(response)
    assert (found["original"], found["timegate"], found["timemap"]) == (PAGE, PAGE, TIMEMAP)
    assert (found["first"], found["last"]) == (FIRST, SECOND)
    # The history links each revision to its memento.
    page = response.content.decode()
    assert f'<a href="{FIRST}" rel="memento">' in page and f'<a href="{SECOND}" rel="memento">' in page


def test_the_timemap_lists_every_version_in_link_format_and_json(client, corrected):
    response = client.get(TIMEMAP)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/link-format")
    body = response.content.decode()
    assert f'<{PAGE}>; rel="original"' in body
    assert f'<{PAGE}>; rel="timegate"' in body
    assert f'<{TIMEMAP}>; rel="self"; type="application/link-format"' in body
    assert f'<{FIRST}>; rel="first memento"; datetime="Wed, 01 May 2024 09:00:00 GMT"' in body
    assert f'<{SECOND}>; rel="last memento"; datetime="Sat, 01 Jun 2024 09:00:00 GMT"' in body

    as_json = client.get(TIMEMAP, HTTP_ACCEPT="application/json").json()
    assert [(m["uri"], m["kind"]) for m in as_json["mementos"]["list"]] == [
        (FIRST, "published"),
        (SECOND, "corrected"),
    ]


@pytest.mark.parametrize(
    "value", ["yesterday", "2024-05-01T09:00:00Z", "Wed, 01 May 2024 09:00:00 +0200", "Fri, 31 Feb 2024 00:00:00 GMT"]
)
def test_a_malformed_accept_datetime_is_a_400_saying_what_is_expected(client, corrected, value):
    for url in (PAGE, f"/api/v1/developments/{corrected}/"):
        response = client.get(url, HTTP_ACCEPT_DATETIME=value)
        assert response.status_code == 400
        assert "RFC 1123" in response.json()["error"]["message"]


def test_a_bad_as_of_on_the_page_is_a_400_and_before_publication_a_404(client, corrected):
    assert client.get(f"{PAGE}?as_of=soon").status_code == 400
    assert client.get(f"{PAGE}?as_of=2001-01-01T00:00:00Z").status_code == 404


def test_a_retracted_development_keeps_its_timemap_and_earlier_mementos(client, corrected, editor):
    with time_machine.travel(RETRACTED, tick=False):
        commands.retract_development(corrected, "The source was a hoax.", actor=editor)
    assert client.get(PAGE).status_code == 410
    assert client.get(TIMEMAP).content.decode().count("memento") == 3
    earlier = client.get(SECOND)
    assert earlier.status_code == 200 and "With Huawei" in earlier.content.decode()
    gate = client.get(PAGE, HTTP_ACCEPT_DATETIME="Sat, 15 Jun 2024 00:00:00 GMT")
    assert gate["Location"] == SECOND
    after = client.get(client.get(PAGE, HTTP_ACCEPT_DATETIME="Mon, 01 Jul 2024 10:00:00 GMT")["Location"])
    assert after.status_code == 410 and after["Memento-Datetime"] == "Mon, 01 Jul 2024 09:00:00 GMT"


def test_the_api_detail_is_a_timegate_and_its_mementos_are_as_of_answers(client, corrected):
    detail = f"http://testserver/api/v1/developments/{corrected}/"
    timemap = f"{detail}timemap/"
    gate = client.get("/api/v1/developments/beltelecom-5g-2021/", HTTP_ACCEPT_DATETIME="Sat, 11 May 2024 12:00:00 GMT")
    assert gate.status_code == 302 and "accept-datetime" in gate["Vary"].lower()
    first = gate["Location"]
    assert first == f"{detail}?as_of=2024-05-01T09%3A00%3A00.000000Z"

    memento = client.get(first)
    assert memento.status_code == 200
    assert memento.json()["title"] == "Beltelecom tests 5G with ZTE"
    assert memento.json()["last_revision"]["kind"] == "published"
    assert memento["Memento-Datetime"] == "Wed, 01 May 2024 09:00:00 GMT"
    assert (links(memento)["original"], links(memento)["timemap"]) == (detail, timemap)
    assert links(memento)["next"] == f"{detail}?as_of=2024-06-01T09%3A00%3A00.000000Z"

    current = client.get(detail)
    assert links(current)["timegate"] == detail and "Memento-Datetime" not in current
    listed = client.get(timemap)
    assert listed["Content-Type"].startswith("application/link-format")
    assert f'<{first}>; rel="first memento"' in listed.content.decode()
    assert client.get(timemap, HTTP_ACCEPT="application/json").json()["mementos"]["last"]["kind"] == "corrected"
