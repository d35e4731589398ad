"""The developments list, detail and history, against the seed chronicle and built cases."""

from datetime import UTC, datetime

import pytest
import time_machine

from chronicle.developments import commands
from chronicle.domain import edtf, search
from tests.api.conftest import error_of
from tests.factories import content_data, published_development

LIST = "/api/v1/developments/"


def all_pages(api, url):
    items = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        items += response.json()["results"]
        url = response.json()["next"]
    return items


def slugs(api, query: str, **extra) -> list[str]:
    return [item["slug"] for item in all_pages(api, f"{LIST}?{query}&limit=7")]


# -- filters against the seed chronicle ----------------------------------------------------


def test_country_filter_defaults_to_all_and_any_widens_it(api, seed):
    with_both = {r["key"] for r in seed if {"BY", "CN"} <= set(r["countries"])}
    with_either = {r["key"] for r in seed if {"BY", "CN"} & set(r["countries"])}
    assert with_both != with_either

    assert set(slugs(api, "country=BY&country=cn")) == with_both
    assert set(slugs(api, "country=BY&country=CN&country_match=any")) == with_either
    assert set(slugs(api, "country=RU")) == {r["key"] for r in seed if "RU" in r["countries"]}


def test_topic_kind_and_actor_filters_match_the_seed(api, seed):
    assert set(slugs(api, "topic=5g")) == {r["key"] for r in seed if "5g" in r["topics"]}
    assert set(slugs(api, "topic=5g&topic=spectrum")) == {
        r["key"] for r in seed if {"5g", "spectrum"} & set(r["topics"])
    }
    assert set(slugs(api, "kind=treaty")) == {r["key"] for r in seed if r["kind"] == "treaty"}
    huawei = {r["key"] for r in seed if any(a["name"] == "Huawei" for a in r.get("actors", []))}
    assert huawei
    assert set(slugs(api, "actor=huawei")) == huawei
    both = {r["key"] for r in seed if {"BY", "CN"} <= set(r["countries"]) and "industrial-parks" in r["topics"]}
    assert set(slugs(api, "country=BY&country=CN&topic=industrial-parks")) == both


def test_dates_match_when_their_span_overlaps_the_range(api, seed):
    # "2005" (the whole year) matches a range in June 2005; so does an interval running through it.
    june_2005 = set(slugs(api, "date_from=2005-06-01&date_to=2005-06-30"))
    expected = {
        r["key"]
        for r in seed
        if edtf.parse(r["date"]).earliest <= datetime(2005, 6, 30).date()
        and edtf.parse(r["date"]).latest >= datetime(2005, 6, 1).date()
    }
    assert "2005" in {r["date"] for r in seed if r["key"] in june_2005}
    assert june_2005 == expected
    in_2021 = set(slugs(api, "date_from=2021&date_to=2021"))
    assert in_2021 == {
        r["key"]
        for r in seed
        if edtf.parse(r["date"]).earliest.year <= 2021 and edtf.parse(r["date"]).latest.year >= 2021
    }


def test_full_text_search_finds_titles_and_summaries(api, seed):
    found = slugs(api, "q=industrial park")
    assert found
    expected = {
        r["key"]
        for r in seed
        if all(word in (r["title"] + " " + r["summary"]).lower() for word in ("industrial", "park"))
    }
    assert expected <= set(found)


@pytest.mark.parametrize("query", ["Kopyl", "kopylsky", "great st", "5G", "belt", "park", "ITU", "sessi xiv"])
def test_q_finds_the_same_developments_on_every_database(api, seed, query):
    """Each database must answer exactly what the rule says: every word begins a word."""
    expected = {r["key"] for r in seed if search.matches(query, r["title"], r["summary"])}
    assert expected, f"{query!r} should find something in the seed"
    assert set(slugs(api, f"q={query}")) == expected


def test_q_matches_the_beginning_of_words_in_any_case_and_script(api, curator, editor):
    published_development(curator, editor, slug="latin", title="Beltelecom tests 5G in the Kopylsky district")
    published_development(curator, editor, slug="cyrillic", title="Белтелеком испытал 5G в Копыльском районе")
    for query, expected in [
        ("Kopyl", ["latin"]),
        ("KOPYLSKY", ["latin"]),
        ("копыль", ["cyrillic"]),
        ("КОПЫЛЬСКОМ", ["cyrillic"]),
        ("белтелеком 5g", ["cyrillic"]),
        ("opyl", []),
        ("пыль", []),
    ]:
        assert sorted(slugs(api, f"q={query}")) == expected, query


def test_q_ranks_title_matches_and_whole_words_first(api, curator, editor):
    published_development(curator, editor, slug="summary-only", title="A visit", summary="They saw the park.")
    published_development(curator, editor, slug="title-prefix", title="Parkland opens", summary="x")
    published_development(curator, editor, slug="title-word", title="A park opens", summary="x")
    assert slugs(api, "q=park") == ["title-word", "title-prefix", "summary-only"]
    assert slugs(api, "q=park&ordering=-date")  # an explicit ordering still filters


@pytest.mark.postgres
def test_q_uses_the_trigram_index_on_postgresql(curator, editor):
    from django.db import connection

    from chronicle.developments import search as development_search
    from chronicle.developments.models import PublicDevelopment

    for number in range(30):
        published_development(curator, editor, slug=f"d-{number}", title=f"Development {number}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE developments_publicdevelopment")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: make the planner show its index choice
    plan = development_search.matching(PublicDevelopment.objects.all(), "Kopyl").explain()
    print(plan)
    assert "api_public_development_search_trigram" in plan
    assert "Bitmap Index Scan" in plan


def test_orderings_are_stable_and_reverse_each_other(api, seed):
    newest_first = all_pages(api, f"{LIST}?limit=6")
    keys = [(d["date_latest"], d["date_earliest"]) for d in newest_first]
    assert keys == sorted(keys, reverse=True)
    assert len({d["id"] for d in newest_first}) == len(seed)
    oldest_first = all_pages(api, f"{LIST}?ordering=date&limit=5")
    assert [d["id"] for d in oldest_first] == [d["id"] for d in reversed(newest_first)]
    updated = all_pages(api, f"{LIST}?ordering=-updated&limit=8")
    assert [d["updated_at"] for d in updated] == sorted((d["updated_at"] for d in updated), reverse=True)
    assert [d["id"] for d in all_pages(api, f"{LIST}?ordering=updated&limit=9")] == [d["id"] for d in reversed(updated)]


def test_pages_neither_skip_nor_repeat_when_something_is_published_meanwhile(api, seed, curator, editor):
    first = api.get(f"{LIST}?limit=10").json()
    published_development(curator, editor, slug="a-late-arrival", date="2100")  # sorts first
    rest = all_pages(api, first["next"])
    ids = [d["id"] for d in first["results"] + rest]
    assert len(ids) == len(set(ids)) == len(seed)


# -- bad values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("country=xx", "country"),
        ("date_from=2021-13-01", "date_from"),
        ("date_to=June", "date_to"),
        ("as_of=yesterday", "as_of"),
        ("ordering=title", "ordering"),
        ("country_match=some", "country_match"),
        ("topic=telepathy", "topic"),
        ("include_retracted=perhaps", "include_retracted"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("countries=BY", "countries"),
        ("ordering=date&ordering=-date", "ordering"),
        ("date_from=2022&date_to=2021", "date_to"),
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(api, db, query, field):
    response = api.get(f"{LIST}?{query}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert field in error["message"]


def test_an_unknown_term_is_told_where_the_terms_are_or_which_they_are(api, db):
    topic = error_of(api.get(f"{LIST}?topic=weather"))["fields"]["topic"][0]
    assert "see /api/v1/topics/" in topic and api.get("/api/v1/topics/").status_code == 200
    kind = error_of(api.get(f"{LIST}?kind=party"))["fields"]["kind"][0]
    assert "/api/v1/kinds/" not in kind and "use one of: diplomatic-relations, treaty" in kind


def test_a_cursor_from_another_ordering_is_refused(api, seed):
    cursor = api.get(f"{LIST}?limit=2").json()["next"].split("cursor=")[1]
    response = api.get(f"{LIST}?ordering=-updated&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in error_of(response)["fields"]


# -- detail, drafts, retraction ------------------------------------------------------------


def test_detail_by_id_or_slug_with_every_fact(api, curator, editor):
    development_id = published_development(curator, editor)
    by_id = api.get(f"{LIST}{development_id}/")
    assert by_id.status_code == 200
    body = by_id.json()
    assert body == api.get(f"{LIST}beltelecom-5g-2021/").json()
    assert body["status"] == "published"
    assert body["countries"] == ["BY", "CN"]
    assert body["date"] == "2021-06" and body["date_earliest"] == "2021-06-01" and body["date_latest"] == "2021-06-30"
    assert body["actors"][1] == {"name": "Huawei", "role": "supplier"}
    assert body["sources"][0]["url"] == "https://example.org/report"
    # What a curator left out is null, as on a tombstone, not a missing key.
    assert body["sources"][0]["quote"] is None and body["amounts"][0]["currency"] is None
    assert body["retraction"] is None
    assert body["history_url"].endswith(f"/api/v1/developments/{development_id}/history/")


def test_unknown_ids_are_a_404_in_the_error_shape(api, db):
    for identifier in ("6f1c2a3e-58d7-4c1b-9a57-0c4e7d7a1e10", "no-such-development", "Not A Slug!"):
        response = api.get(f"{LIST}{identifier}/")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert api.get(f"{LIST}no-such-development/history/").status_code == 404


def test_drafts_and_reviews_never_leave_through_the_api(api, curator, editor):
    draft = commands.draft_development(content_data(title="Secret draft"), actor=curator, slug="secret-draft")
    in_review = commands.draft_development(content_data(title="Under review"), actor=curator, slug="under-review")
    commands.submit_development(in_review.development_id, actor=curator)
    published = published_development(curator, editor, title="Public title")
    commands.revise_development(published, content_data(title="Unpublished correction"), actor=curator)
    commands.submit_development(published, actor=curator)

    for identifier in (draft.development_id, "secret-draft", in_review.development_id):
        assert api.get(f"{LIST}{identifier}/").status_code == 404
        assert api.get(f"{LIST}{identifier}/?as_of=2100-01-01T00:00:00Z").status_code == 404
    listed = api.get(f"{LIST}?as_of=2100-01-01T00:00:00Z").json()["results"] + api.get(LIST).json()["results"]
    assert {d["title"] for d in listed} == {"Public title"}
    texts = [
        api.get(f"{LIST}{published}/").content,
        api.get(f"{LIST}{published}/history/").content,
        api.get(f"{LIST}{published}/?as_of=2100-01-01T00:00:00Z").content,
        api.get("/api/v1/events/").content,
    ]
    for text in texts:
        assert b"Unpublished correction" not in text and b"Secret draft" not in text and b"Under review" not in text


def test_a_retracted_development_answers_as_a_tombstone(api, curator, editor):
    development_id = published_development(curator, editor)
    commands.retract_development(development_id, "Duplicate of another entry.", actor=editor)

    response = api.get(f"{LIST}{development_id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "retracted"
    assert body["title"] == "Beltelecom tests 5G with Huawei"
    assert body["retraction"]["reason"] == "Duplicate of another entry."
    assert body["retraction"]["retracted_at"] == body["updated_at"]
    for fact in ("summary", "kind", "date", "countries", "topics", "actors", "sources"):
        assert body[fact] is None
    assert api.get(LIST).json()["results"] == []
    [tombstone] = api.get(f"{LIST}?include_retracted=true").json()["results"]
    assert tombstone == body
    history = api.get(f"{LIST}{development_id}/history/").json()["results"]
    assert [(r["kind"], r["note"]) for r in history] == [
        ("published", ""),
        ("retracted", "Duplicate of another entry."),
    ]
    assert history[0]["content"]["title"] == body["title"] and history[1]["content"] is None


# -- as_of -----------------------------------------------------------------------------------

BEFORE = datetime(2024, 4, 30, tzinfo=UTC)
PUBLISHED = datetime(2024, 5, 1, 9, tzinfo=UTC)
BETWEEN = "2024-05-15T00:00:00Z"
CORRECTED = datetime(2024, 6, 1, 9, tzinfo=UTC)
AFTER = "2024-06-02T00:00:00+03:00"


@pytest.fixture
def corrected(curator, editor):
    with time_machine.travel(PUBLISHED, tick=False):
        development_id = published_development(curator, editor, title="Beltelecom tests 5G with ZTE")
    with time_machine.travel(CORRECTED, tick=False):
        commands.revise_development(development_id, content_data(), actor=curator)
        commands.submit_development(development_id, actor=curator)
        commands.publish_correction(development_id, "The supplier was Huawei, not ZTE.", actor=editor)
    return development_id


def test_as_of_shows_what_was_said_before_a_correction(api, corrected):
    before = api.get(f"{LIST}{corrected}/?as_of={BETWEEN}").json()
    assert before["title"] == "Beltelecom tests 5G with ZTE"
    assert before["updated_at"] == "2024-05-01T09:00:00Z"
    after = api.get(f"{LIST}{corrected}/?as_of={AFTER}".replace("+", "%2B")).json()
    assert after["title"] == "Beltelecom tests 5G with Huawei"
    assert after == api.get(f"{LIST}{corrected}/").json()
    assert api.get(f"{LIST}{corrected}/?as_of={BEFORE.isoformat().replace('+', '%2B')}").status_code == 404


def test_the_list_and_history_as_of_agree_with_the_detail(api, corrected):
    [listed] = api.get(f"{LIST}?as_of={BETWEEN}").json()["results"]
    assert listed == api.get(f"{LIST}{corrected}/?as_of={BETWEEN}").json()
    assert api.get(f"{LIST}?as_of={BETWEEN}&q=ZTE").json()["results"] == [listed]
    assert api.get(f"{LIST}?as_of={BETWEEN}&q=Huawei").json()["results"] == []
    assert api.get(f"{LIST}?as_of=2024-04-01T00:00:00Z").json()["results"] == []
    history = api.get(f"{LIST}{corrected}/history/?as_of={BETWEEN}").json()["results"]
    assert [r["kind"] for r in history] == ["published"]
    full = api.get(f"{LIST}{corrected}/history/").json()["results"]
    assert [(r["kind"], r["note"]) for r in full] == [
        ("published", ""),
        ("corrected", "The supplier was Huawei, not ZTE."),
    ]


def test_last_revision_names_the_latest_public_revision_now_and_as_of(api, corrected, curator, editor):
    detail = api.get(f"{LIST}{corrected}/").json()
    assert detail["status"] == "published"
    assert detail["last_revision"] == {
        "kind": "corrected",
        "note": "The supplier was Huawei, not ZTE.",
        "recorded_at": "2024-06-01T09:00:00Z",
        "position": detail["position"],
    }
    [listed] = api.get(LIST).json()["results"]
    assert listed["last_revision"] == detail["last_revision"]

    before = api.get(f"{LIST}{corrected}/?as_of={BETWEEN}").json()["last_revision"]
    assert before["kind"] == "published" and before["note"] == ""
    assert before["recorded_at"] == "2024-05-01T09:00:00Z"
    [listed_before] = api.get(f"{LIST}?as_of={BETWEEN}").json()["results"]
    assert listed_before["last_revision"] == before

    commands.retract_development(corrected, "Never happened.", actor=editor)
    [tombstone] = api.get(f"{LIST}?include_retracted=true").json()["results"]
    assert tombstone["last_revision"]["kind"] == "retracted"
    assert tombstone["last_revision"]["note"] == "Never happened."
    assert api.get(f"{LIST}{corrected}/?as_of={AFTER}".replace("+", "%2B")).json()["last_revision"]["kind"] == (
        "corrected"
    )


def test_last_revision_is_in_the_openapi_schema(api, db):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    development = schema["components"]["schemas"]["Development"]
    assert "last_revision" in development["required"]
    last = schema["components"]["schemas"]["LastRevision"]
    assert set(last["properties"]) == {"kind", "note", "recorded_at", "position"}


def test_the_list_as_of_filters_and_pages_like_the_current_one(api, seed):
    now = "2100-01-01T00:00:00Z"
    for query in ("country=BY&country=CN&topic=industrial-parks", "kind=visit", "date_from=2015&date_to=2016"):
        assert slugs(api, f"{query}&as_of={now}") == slugs(api, query)
    assert slugs(api, f"ordering=date&as_of={now}") == slugs(api, "ordering=date")


# -- conditional GET -------------------------------------------------------------------------


def test_conditional_get_and_cached_answers_last_until_the_data_changes(api, curator, editor):
    development_id = published_development(curator, editor)
    for url in (LIST, f"{LIST}{development_id}/", f"{LIST}{development_id}/history/"):
        first = api.get(url)
        assert first["ETag"] and first["Last-Modified"]
        again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again["ETag"] == first["ETag"]
        assert api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    etags = {url: api.get(url)["ETag"] for url in (LIST, f"{LIST}{development_id}/")}

    commands.revise_development(development_id, content_data(stage="implemented"), actor=curator)
    for url, etag in etags.items():
        assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304, "a draft changes nothing public"
    commands.submit_development(development_id, actor=curator)
    commands.publish_update(development_id, "Now implemented.", actor=editor)
    for url, etag in etags.items():
        changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
        assert changed.status_code == 200 and changed["ETag"] != etag
        shown = changed.json()["results"][0] if url == LIST else changed.json()
        assert shown["stage"] == "implemented", "answers are cached by ETag, never past a change"


def test_links_follow_the_port_the_api_is_served_on(api, curator, editor):
    """`PORT=8123 bin/run`: a partner reading 127.0.0.1:8123 gets links there, never to :8000."""
    published_development(curator, editor, slug="on-port")
    response = api.get("/api/v1/developments/", HTTP_HOST="127.0.0.1:8123")
    assert response.status_code == 200, response.content
    listing = response.json()
    (item,) = listing["results"]
    for link in (item["url"], item["history_url"], item["page_url"]):
        assert link.startswith("http://127.0.0.1:8123/"), link


def test_the_schema_says_why_an_amount_value_is_a_string(api, db, curator, editor):
    published_development(curator, editor, slug="speed")
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    value = schema["components"]["schemas"]["Amount"]["properties"]["value"]
    assert value["type"] == "string"
    assert "no digit is lost" in value["description"]
    (item,) = api.get("/api/v1/developments/").json()["results"]
    assert item["amounts"][0]["value"] == "1.235"
