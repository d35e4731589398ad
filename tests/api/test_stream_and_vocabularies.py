"""The public change stream, the vocabularies with counts, and the OpenAPI documents."""

import re

from chronicle.developments import commands
from chronicle.eventstore.models import Event
from tests.api.conftest import error_of
from tests.factories import content_data, published_development

EVENTS = "/api/v1/events/"


def test_the_change_stream_lists_public_events_in_order_and_never_skips(api, curator, editor):
    first = published_development(curator, editor, slug="first-development")
    commands.draft_development(content_data(title="Draft only"), actor=curator, slug="draft-only")
    second = published_development(curator, editor, slug="second-development")
    commands.revise_development(first, content_data(title="Corrected title"), actor=curator)
    commands.submit_development(first, actor=curator)
    commands.publish_correction(first, "Fixed the title.", actor=editor)
    commands.retract_development(second, "Published twice.", actor=editor)

    seen, after = [], 0
    while True:
        page = api.get(f"{EVENTS}?after={after}&limit=1").json()
        if not page["results"]:
            assert page["next"] == after
            break
        [event] = page["results"]
        assert page["next"] == event["position"] > after
        assert f"after={event['position']}" in page["next_url"]
        seen.append(event)
        after = page["next"]

    public = list(
        Event.objects.filter(type__startswith="development.")
        .exclude(type__in=["development.drafted", "development.revised", "development.submitted"])
        .values_list("position", flat=True)
    )
    assert [e["position"] for e in seen] == public
    assert [(e["development"]["slug"], e["kind"]) for e in seen] == [
        ("first-development", "published"),
        ("second-development", "published"),
        ("first-development", "corrected"),
        ("second-development", "retracted"),
    ]
    assert seen[2]["note"] == "Fixed the title." and seen[2]["content"]["title"] == "Corrected title"
    assert seen[3]["note"] == "Published twice." and seen[3]["content"] is None
    assert b"Draft only" not in api.get(EVENTS).content


def test_the_change_stream_refuses_bad_cursors(api, db):
    for query in ("after=-1", "after=first", "limit=0", "limit=1001", "since=3"):
        response = api.get(f"{EVENTS}?{query}")
        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid"


def test_vocabularies_count_published_developments(api, seed):
    topics = {t["slug"]: t for t in api.get("/api/v1/topics/").json()["results"]}
    assert topics["5g"]["count"] == sum("5g" in r["topics"] for r in seed)
    assert topics["roaming"]["label"] == "Roaming"
    listed = api.get(topics["5g"]["url"] + "&limit=100").json()["results"]
    assert len(listed) == topics["5g"]["count"]

    countries = api.get("/api/v1/countries/").json()["results"]
    names_of = {"BY": "Belarus", "CN": "China", "RU": "Russian Federation", "US": "United States"}
    assert [(c["code"], c["name"], c["count"]) for c in countries] == [
        (code, names_of[code], sum(code in r["countries"] for r in seed))
        for code in sorted({code for r in seed for code in r["countries"]})
    ]

    names = []
    url = "/api/v1/actors/?limit=10"
    while url:
        page = api.get(url).json()
        names += page["results"]
        url = page["next"]
    expected = {a["name"] for r in seed for a in r.get("actors", [])}
    assert [a["name"] for a in names] == sorted(expected, key=lambda n: [a["name"] for a in names].index(n))
    assert {a["name"] for a in names} == expected and len(names) == len(expected)
    huawei = next(a for a in names if a["name"] == "Huawei")
    assert huawei["count"] == sum(any(a["name"] == "Huawei" for a in r.get("actors", [])) for r in seed)
    assert [a["name"] for a in api.get("/api/v1/actors/?q=huaw").json()["results"]] == ["Huawei"]


def test_a_retracted_development_leaves_the_counts(api, curator, editor):
    development_id = published_development(curator, editor)
    assert api.get("/api/v1/topics/").json()["results"][0]["count"] == 1
    commands.retract_development(development_id, "Wrong.", actor=editor)
    assert api.get("/api/v1/topics/").json()["results"][0]["count"] == 0
    assert api.get("/api/v1/countries/").json()["results"] == []


def test_the_schema_documents_every_endpoint_and_the_docs_load_nothing_from_the_internet(api, db):
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    document = schema.json()
    paths = document["paths"]
    for path in (
        "/api/v1/developments/",
        "/api/v1/developments/{identifier}/",
        "/api/v1/developments/{identifier}/history/",
        "/api/v1/events/",
        "/api/v1/topics/",
        "/api/v1/countries/",
        "/api/v1/actors/",
    ):
        operation = paths[path]["get"]
        assert {"200", "400", "429"} <= set(operation["responses"]), path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert parameter.get("description") and parameter.get("examples"), (path, parameter["name"])
    assert "Retracted developments" in document["info"]["description"]

    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert not re.search(r"""["'](https?:)?//[a-z0-9.-]+""", html)  # no absolute or protocol-relative URL
