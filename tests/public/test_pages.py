import re
from datetime import UTC, datetime

import pytest
import time_machine

from chronicle.developments import commands
from chronicle.public.views import PAGE_SIZE
from tests.factories import published_development
from tests.feeds.helpers import revise_and_publish

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return re.findall(r'<h2><a href="/developments/[^"]+/">([^<]+)</a>', response.content.decode())


def autodiscovery(response) -> list[str]:
    return re.findall(r'<link rel="alternate" type="[^"]+" title="[^"]+" href="([^"]+)">', response.content.decode())


@pytest.fixture
def chronicle(curator, editor):
    published_development(curator, editor, slug="by-5g", title="Belarus 5G test", date="2021-06")
    published_development(
        curator,
        editor,
        slug="ru-ai",
        title="Russia AI memorandum",
        date="2019-03-14",
        kind="memorandum",
        countries=["RU", "CN"],
        topics=["ai"],
    )
    published_development(
        curator,
        editor,
        slug="itu-standards",
        title="ITU standards meeting",
        date="2021~",
        kind="meeting",
        countries=["CN"],
        topics=["standards"],
    )


def test_the_timeline_lists_published_developments_by_date_newest_first(client, chronicle):
    response = client.get("/")
    assert response.status_code == 200
    assert titles(response) == ["ITU standards meeting", "Belarus 5G test", "Russia AI memorandum"]
    page = response.content.decode()
    assert '<time datetime="2019-03-14" data-edtf="2019-03-14">14 March 2019</time>' in page
    assert '<time datetime="2021" data-edtf="2021~">2021 (approximate)</time>' in page
    assert autodiscovery(response) == ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=cn", ["ITU standards meeting", "Belarus 5G test", "Russia AI memorandum"]),
        ("country=RU", ["Russia AI memorandum"]),
        ("topic=5g", ["Belarus 5G test"]),
        ("year=2021", ["ITU standards meeting", "Belarus 5G test"]),
        ("year=2019&topic=ai&country=ru", ["Russia AI memorandum"]),
        ("year=2020", []),
    ],
)
def test_the_timeline_filters_by_country_topic_and_year(client, chronicle, query, expected):
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert titles(response) == expected


def test_a_filtered_timeline_announces_its_own_feeds_first(client, chronicle):
    response = client.get("/?country=by&topic=5g")
    assert autodiscovery(response)[:6] == [
        "/feeds/topics/5g.atom",
        "/feeds/topics/5g.rss",
        "/feeds/topics/5g.json",
        "/feeds/countries/by.atom",
        "/feeds/countries/by.rss",
        "/feeds/countries/by.json",
    ]
    assert "/feeds/all.atom" in autodiscovery(response)
    assert "<h1>Belarus · 5G</h1>" in response.content.decode()


@pytest.mark.parametrize("query", ["country=xx", "topic=nonsense", "year=abc", "country=belarus"])
def test_bad_filters_are_explained_not_crashed_on(client, chronicle, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert titles(response) == []


def test_the_timeline_is_paginated_and_keeps_its_filters(client, curator, editor):
    for number in range(PAGE_SIZE + 2):
        published_development(curator, editor, slug=f"dev-{number}", title=f"Development {number:02d}")
    first = client.get("/?topic=5g")
    assert len(titles(first)) == PAGE_SIZE
    assert 'href="?topic=5g&amp;page=2" rel="next"' in first.content.decode()
    second = client.get("/?topic=5g&page=2")
    assert len(titles(second)) == 2
    assert set(titles(first)).isdisjoint(titles(second))
    assert client.get("/?page=999").status_code == 200


def test_user_text_is_escaped_everywhere(client, curator, editor):
    development_id = published_development(
        curator, editor, slug="hostile", title="<script>alert(1)</script>", summary="<img src=x onerror=alert(2)>"
    )
    revise_and_publish(development_id, curator, editor, note="<b>bold</b> claim", date="2021-07")
    for path in ("/", "/developments/hostile/"):
        page = client.get(path).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; claim" in client.get("/developments/hostile/").content.decode()


def test_the_development_page_shows_its_facts_sources_and_history(client, curator, editor):
    with time_machine.travel(datetime(2024, 3, 1, 9, tzinfo=UTC), tick=False):
        development_id = published_development(curator, editor)
    with time_machine.travel(datetime(2024, 3, 5, 16, 30, tzinfo=UTC), tick=False):
        revise_and_publish(development_id, curator, editor, note="Stage confirmed.", kind="update", stage="in-force")
    response = client.get("/developments/beltelecom-5g-2021/")
    page = response.content.decode()
    assert response.status_code == 200
    for fact in (
        '<dd><time datetime="2021-06" data-edtf="2021-06">June 2021</time></dd>',
        "<dd>Network test</dd>",
        "<dd>In force</dd>",
        '<a href="/?country=by">Belarus</a>',
        '<a href="/?country=cn">China</a>',
        'Huawei <span class="meta">— supplier</span>',
        '<a href="/?topic=5g">5G</a>',
        '1.235 Gbit/s <span class="meta">— peak download speed</span>',
        "Minsk, Belarus",
        '<a href="https://example.org/report" rel="noopener nofollow">Beltelecom report</a>. Beltelecom.',
    ):
        assert fact in page
    history = re.findall(
        r'<li id="revision-\d+"><strong>(\w+)</strong> <a href="[^"]+" rel="memento"><time[^>]*>([^<]+)</time></a>'
        r"(?: — ([^<]+))?</li>",
        page,
    )
    assert history == [
        ("Published", "1 March 2024, 09:00 UTC", ""),
        ("Update", "5 March 2024, 16:30 UTC", "Stage confirmed."),
    ]
    assert autodiscovery(response) == ["/feeds/all.atom", "/feeds/all.rss", "/feeds/all.json"]


def test_a_retracted_development_leaves_a_tombstone_with_410(client, curator, editor):
    development_id = published_development(curator, editor)
    commands.retract_development(development_id, "The report was withdrawn by its publisher.", actor=editor)
    response = client.get("/developments/beltelecom-5g-2021/")
    page = response.content.decode()
    assert response.status_code == 410
    assert "This development was retracted" in page
    assert "The report was withdrawn by its publisher." in page
    assert "Beltelecom report" not in page
    assert "Beltelecom tests 5G with Huawei" not in titles(client.get("/"))


def test_unknown_developments_are_404(client, db):
    assert client.get("/developments/no-such-thing/").status_code == 404


def test_the_pages_need_no_javascript(client, chronicle):
    for path in ("/", "/developments/by-5g/"):
        assert "<script" not in client.get(path).content.decode()


def test_sources_are_shown_as_a_reader_cites_them_without_file_names(client, curator, editor):
    article = {
        "title": "Harbour links of the north",
        "author": "A. Testwriter",
        "publisher": "Coastal Review",
        "published": "2021-10",
        "locator": "010_a1b2c3d4e5f60718.txt, section 'Construction', paragraph 2",
        "quote": "the link opened on 14 September 2021",
    }
    release = {
        "title": "Fibre link opens",
        "publisher": "Ridge Networks",
        "url": "https://ridge.example.org/news/link-opens",
        "accessed": "2021-10-02",
        "locator": "named in 010_a1b2c3d4e5f60718.txt, list of cited sources, reference 1",
    }
    published_development(curator, editor, slug="harbour-link", date="2016?/2021?", sources=[article, release])
    page = client.get("/developments/harbour-link/").content.decode()
    assert ".txt" not in page
    assert (
        "Harbour links of the north. A. Testwriter. Coastal Review, October 2021. "
        "Section &#x27;Construction&#x27;, paragraph 2."
    ) in page
    assert (
        '<a href="https://ridge.example.org/news/link-opens" rel="noopener nofollow">Fibre link opens</a>. '
        "Ridge Networks. Named in “Harbour links of the north”, list of cited sources, reference 1. "
        "Accessed 2 October 2021."
    ) in page
    assert '<span class="date" data-edtf="2016?/2021?">between 2016 and 2021, uncertain</span>' in page


def test_two_countries_in_the_address_both_apply_as_in_the_api(client, chronicle):
    response = client.get("/?country=by&country=cn")
    assert response.status_code == 200
    assert titles(response) == ["Belarus 5G test"]
    page = response.content.decode()
    assert "<h1>Belarus and China</h1>" in page
    assert '<option value="by" selected>' in page and '<input type="hidden" name="country" value="cn">' in page
    assert {"/feeds/countries/by.atom", "/feeds/countries/cn.atom"} <= set(autodiscovery(response))


def test_the_timeline_search_is_the_api_search(client, chronicle):
    for query in ("itu", "ITU stand", "memo", "belarus 5g", "опыт", "tandards"):
        page_titles = titles(client.get("/", {"q": query}))
        api_answer = client.get("/api/v1/developments/", {"q": query}).json()
        api_titles = [item["title"] for item in api_answer["results"]]
        assert sorted(page_titles) == sorted(api_titles), query
    assert titles(client.get("/?q=ITU+stand")) == ["ITU standards meeting"]
    assert titles(client.get("/?q=tandards")) == []


@pytest.fixture
def kinds_chronicle(curator, editor):
    published_development(curator, editor, slug="by-5g", title="Belarus 5G test", date="2021-06")
    published_development(
        curator,
        editor,
        slug="trade-2024",
        title="Trade exceeds $8.4 billion",
        kind="indicator",
        date="2024",
        topics=["trade"],
        amounts=[
            {
                "value": "8400000000",
                "currency": "USD",
                "measures": "trade volume",
                "qualifier": "more-than",
                "period": "2024",
            }
        ],
    )
    published_development(
        curator,
        editor,
        slug="sanctions-2021",
        title="Sanctions after the forced landing",
        kind="context",
        date="2021-05?",
        countries=["BY"],
        topics=["diplomacy"],
    )


def test_the_timeline_lists_developments_and_context_and_keeps_figures_under_their_own_filter(client, kinds_chronicle):
    default = client.get("/")
    assert titles(default) == ["Belarus 5G test", "Sanctions after the forced landing"]
    assert '<span class="flag">Context</span>' in default.content.decode()
    assert "2 developments" in default.content.decode()
    figures = client.get("/?kind=indicator")
    assert titles(figures) == ["Trade exceeds $8.4 billion"]
    assert "1 figure" in figures.content.decode()
    assert '<option value="indicator" selected>Figures</option>' in figures.content.decode()
    assert "<li>more than $8.4 billion — trade volume, 2024</li>" in figures.content.decode()
    page = client.get("/developments/trade-2024/").content.decode()
    assert "more than $8.4 billion" in page and "Figures" in page
    assert titles(client.get("/?kind=context")) == ["Sanctions after the forced landing"]
    assert client.get("/?kind=rumour").status_code == 400


def test_the_api_still_filters_figures_and_context_by_kind(client, kinds_chronicle):
    everything = client.get("/api/v1/developments/").json()["results"]
    assert {item["kind"] for item in everything} == {"network-test", "indicator", "context"}
    figures = client.get("/api/v1/developments/?kind=indicator").json()["results"]
    assert [item["title"] for item in figures] == ["Trade exceeds $8.4 billion"]


def test_the_development_page_says_how_its_date_is_known_and_marks_context(client, curator, editor):
    published_development(
        curator, editor, slug="polonez-test", title="Polonez test announced", date="../2015-06-18", date_basis="bounded"
    )
    published_development(
        curator, editor, slug="landing", title="Forced landing", kind="context", date="2021-05?", date_basis="inferred"
    )
    page = client.get("/developments/polonez-test/").content.decode()
    assert "The source says only that it happened by this date." in page
    context = client.get("/developments/landing/").content.decode()
    assert "Worked out from the source&#x27;s own date" in context
    assert "Context: not cooperation itself" in context


def test_related_developments_link_to_each_other_from_both_pages(client, curator, editor):
    published_development(curator, editor, slug="treaty-2015", title="Treaty signed", date="2015-05")
    published_development(
        curator, editor, slug="treaty-in-force", title="Treaty in force", date="2016-09", related=["treaty-2015"]
    )
    published_development(curator, editor, slug="unrelated", title="Something else", date="2016")
    named = client.get("/developments/treaty-in-force/").content.decode()
    naming = client.get("/developments/treaty-2015/").content.decode()
    assert '<a href="/developments/treaty-2015/">Treaty signed</a>' in named
    assert '<a href="/developments/treaty-in-force/">Treaty in force</a>' in naming
    assert "Something else" not in named + naming


def test_the_site_has_a_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert '<link rel="icon" href="/favicon.ico">' in client.get("/").content.decode()
