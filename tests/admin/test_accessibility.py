"""The admin in chromium at 1280 px: branded Chronicle, readable, and axe finds nothing critical
or serious on the pages curators and editors use."""

import pytest

from chronicle.developments import commands
from tests.accessibility import axe_violations
from tests.admin.conftest import change_url
from tests.factories import content_data, published_development

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")
LONG_TITLE = (
    "Beltelecom and Huawei complete the second stage of 5G network tests at the Great Stone "
    "industrial park and in the Kopylsky district"
)


@pytest.fixture
def in_review(curator, editor):
    published_development(curator, editor, slug="published-one")
    outcome = commands.draft_development(
        content_data(title=LONG_TITLE, topics=["5g", "spectrum", "industrial-parks", "ict-policy"]),
        actor=curator,
        slug="in-review",
    )
    commands.submit_development(outcome.development_id, actor=curator)
    return outcome.development_id


def test_the_admin_says_chronicle(signed_in, editor):
    page = signed_in("eddie-editor")
    page.goto("/admin/")
    assert page.locator("#site-name").inner_text() == "Chronicle"
    assert "Django" not in page.title() and "Chronicle" in page.title()
    assert "Django administration" not in page.content()


def test_admin_pages_have_no_serious_accessibility_violation(signed_in, editor, in_review, screenshot):
    draft = commands.draft_development(content_data(title=LONG_TITLE), actor=editor, slug="a-draft").development_id
    page = signed_in("eddie-editor")
    pages = {
        "list": "/admin/developments/developmentrecord/",
        "add": "/admin/developments/developmentrecord/add/",
        "review": change_url(in_review),
        "history": change_url(in_review) + "history/",
        "api keys": "/admin/api/apikey/",
        "new api key": "/admin/api/apikey/add/",
        "index": "/admin/",
        "edit": change_url(draft),
    }
    found = {}
    for name, url in pages.items():
        page.goto(url)
        screenshot(page, name.replace(" ", "-"))
        found[name] = axe_violations(page, SERIOUS)
    assert found == {name: [] for name in pages}, "\n".join(f"{n}: {v}" for n, vs in found.items() for v in vs)


def test_the_list_shows_topics_and_the_edit_page_whole_titles_at_1280px(signed_in, curator, editor, in_review):
    draft = commands.draft_development(content_data(title=LONG_TITLE), actor=curator, slug="a-draft").development_id
    page = signed_in("eddie-editor")
    page.goto("/admin/developments/developmentrecord/")
    cell = page.locator("td.field-topic_labels").first
    assert cell.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "topics are clipped"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the list scrolls sideways"
    page = signed_in("cora-curator")
    page.goto(change_url(draft))
    title = page.locator("#id_title")
    assert title.input_value() == LONG_TITLE
    assert title.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the title input cuts the title"


def test_placeholders_read_as_examples_not_values(signed_in, editor):
    page = signed_in("eddie-editor")
    page.goto("/admin/developments/developmentrecord/add/")
    placeholders = page.eval_on_selector_all(
        "input[placeholder]",
        "els => els.filter(el => !el.closest('.selector')).map(el => el.getAttribute('placeholder'))",
    )
    assert len(placeholders) > 10
    for text in placeholders:
        assert text.startswith(("e.g.", "YYYY-MM-DD", "derived", "slugs")), text
    value = page.locator("#id_amounts-0-value")
    assert value.get_attribute("placeholder") == "e.g. 1500000"
    assert value.evaluate("el => getComputedStyle(el, '::placeholder').fontStyle") == "italic"
