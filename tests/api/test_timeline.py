"""/api/v1/timeline.json: developments in TimelineJS's JSON format, with the API's filters and manners."""

import pytest

from chronicle.api.models import ApiKey
from chronicle.developments import commands
from tests.api.conftest import error_of
from tests.factories import published_development

TIMELINE = "/api/v1/timeline.json"

# date as entered → (start_date, end_date or None, display_date)
PRECISIONS = {
    "2005": ({"year": 2005}, None, "2005"),
    "2010-03": ({"year": 2010, "month": 3}, None, "March 2010"),
    "1992-01-20": ({"year": 1992, "month": 1, "day": 20}, None, "20 January 1992"),
    "2021~": ({"year": 2021}, None, "2021 (approximate)"),
    "2020-06?": ({"year": 2020, "month": 6}, None, "June 2020 (uncertain)"),
    "2021-06-01/2021-06-04": (
        {"year": 2021, "month": 6, "day": 1},
        {"year": 2021, "month": 6, "day": 4},
        "1–4 June 2021",
    ),
    "2015/2023": ({"year": 2015}, {"year": 2023}, "2015–2023"),
    "../2015-06-18": ({"year": 2015, "month": 6, "day": 18}, None, "before 18 June 2015"),
    "2016-09/..": ({"year": 2016, "month": 9}, None, "after September 2016"),
    "201X": ({"year": 2010}, {"year": 2019}, "2010s"),
}


def slug_of(text: str) -> str:
    return "dated-" + "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


@pytest.fixture
def chronicle(curator, editor):
    for text in PRECISIONS:
        published_development(curator, editor, slug=slug_of(text), title=f"Dated {text}", date=text)
    published_development(
        curator,
        editor,
        slug="ru-ai",
        title="Russia & China sign an <AI> memorandum",
        summary="Research on <b>AI</b>, shared.",
        date="2019-03-14",
        kind="memorandum",
        countries=["RU", "CN"],
        topics=["ai"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("text", list(PRECISIONS))
def test_each_date_goes_out_at_its_own_precision(api, chronicle, text):
    events = {event["unique_id"]: event for event in api.get(TIMELINE).json()["events"]}
    event = events[slug_of(text)]
    start, end, display = PRECISIONS[text]
    assert event["start_date"] == start
    assert event.get("end_date") == end
    assert event["display_date"] == display
    assert event["group"] == "Network test"
    assert event["text"]["headline"] == f"Dated {text}"


@pytest.mark.django_db
def test_text_is_escaped_html_with_the_summary_and_a_link_to_the_page(api, chronicle):
    response = api.get(TIMELINE, {"country": "ru"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"title", "events"}
    [event] = body["events"]
    assert set(event) == {"unique_id", "start_date", "display_date", "text", "group"}
    assert event["text"]["headline"] == "Russia &amp; China sign an &lt;AI&gt; memorandum"
    assert event["text"]["text"] == (
        "<p>Research on &lt;b&gt;AI&lt;/b&gt;, shared.</p>"
        '<p><a href="http://testserver/developments/ru-ai/">Sources and history on Chronicle</a></p>'
    )
    assert event["group"] == "Memorandum"
    assert body["title"]["text"]["headline"] == "Cooperation developments"
    assert body["title"]["text"]["text"].startswith('<p>1 development from <a href="http://testserver/">Chronicle</a>')


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "memorandum"}, ["ru-ai"]),
        ({"topic": "ai", "country": "CN"}, ["ru-ai"]),
        ({"date_from": "2016", "date_to": "2018"}, ["dated-2015-2023", "dated-2016-09", "dated-201x"]),
        ({"q": "memorandum"}, ["ru-ai"]),
    ],
)
def test_the_api_filters_apply(api, chronicle, query, expected):
    events = api.get(TIMELINE, query).json()["events"]
    assert sorted(event["unique_id"] for event in events) == expected


@pytest.mark.django_db
def test_the_latest_by_date_up_to_the_limit_and_the_title_says_so(api, chronicle):
    body = api.get(TIMELINE, {"limit": 2}).json()
    assert [event["unique_id"] for event in body["events"]] == ["dated-2016-09", "dated-2015-2023"]
    assert body["title"]["text"]["text"].startswith("<p>The latest 2 developments by date from")
    assert len(api.get(TIMELINE).json()["events"]) == len(PRECISIONS) + 1


@pytest.mark.django_db
def test_retracted_developments_are_left_out(api, chronicle, editor):
    commands.retract_development(commands.development_id_for("ru-ai"), "Not what happened.", actor=editor)
    assert "ru-ai" not in [event["unique_id"] for event in api.get(TIMELINE).json()["events"]]


@pytest.mark.django_db
def test_bad_parameters_get_a_json_400(api, chronicle):
    for query, field in [({"kind": "party"}, "kind"), ({"limit": 5000}, "limit"), ({"ordering": "date"}, "ordering")]:
        response = api.get(TIMELINE, query)
        assert response.status_code == 400
        assert field in error_of(response)["fields"]
        assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_conditional_get_and_any_site_may_read_it(api, chronicle, curator, editor):
    first = api.get(TIMELINE)
    assert first["Access-Control-Allow-Origin"] == "*"
    again = api.get(TIMELINE, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["Access-Control-Allow-Origin"] == "*"
    published_development(curator, editor, slug="a-new-one", date="2024-01-01")
    changed = api.get(TIMELINE, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and "a-new-one" in changed.content.decode()


@pytest.mark.django_db
def test_keys_and_throttles_as_for_the_rest_of_the_api(api, chronicle, settings, partner):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "2/minute", "partner": "4/minute"},
    }
    assert [api.get(TIMELINE).status_code for _ in range(3)] == [200, 200, 429]
    _, secret = ApiKey.issue(name="newsroom", owner=partner)
    assert api.get(TIMELINE, HTTP_AUTHORIZATION=f"Api-Key {secret}").status_code == 200
    assert api.get(TIMELINE, HTTP_AUTHORIZATION="Api-Key not-a-key").status_code == 401


@pytest.mark.django_db
def test_the_openapi_schema_describes_it(api):
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/timeline.json"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {
        "country",
        "country_match",
        "topic",
        "kind",
        "actor",
        "date_from",
        "date_to",
        "q",
        "as_of",
        "limit",
    }
    assert set(operation["responses"]) >= {"200", "304", "400", "401", "429"}
    assert "TimelineJS" in operation["description"]
