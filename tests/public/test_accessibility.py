"""Every public page in chromium: axe finds no critical or serious violation."""

import pytest

from chronicle.developments import commands
from chronicle.digests import tokens
from tests.accessibility import axe_violations
from tests.digests.factories import confirmed_subscriber
from tests.factories import published_development

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


def test_every_public_page_passes_axe(page, curator, editor):
    published_development(curator, editor, slug="by-5g", date="2016?/2021?")
    published_development(
        curator,
        editor,
        slug="trade-2024",
        kind="indicator",
        date="2024",
        amounts=[
            {"value": "8400000000", "currency": "USD", "measures": "trade", "qualifier": "more-than", "period": "2024"}
        ],
    )
    published_development(
        curator, editor, slug="sanctions", kind="context", date="../2021-06-30", date_basis="bounded", related=["by-5g"]
    )
    retracted = published_development(curator, editor, slug="withdrawn", title="Withdrawn")
    commands.retract_development(retracted, "The source was a hoax.", actor=editor)
    subscriber = confirmed_subscriber("reader@example.org")
    pages = [
        "/",
        "/?q=beltel&country=by&country=cn",
        "/?country=zz",
        "/developments/by-5g/",
        "/?kind=indicator",
        "/developments/trade-2024/",
        "/developments/sanctions/",
        "/developments/withdrawn/",
        "/subscribe/",
        tokens.path(tokens.CONFIRM, subscriber),
        tokens.path(tokens.MANAGE, subscriber),
        tokens.path(tokens.UNSUBSCRIBE, subscriber),
        "/subscribe/confirm/not-a-token/",
    ]
    found = {}
    for url in pages:
        page.goto(url)
        found[url] = axe_violations(page, SERIOUS)
    page.goto("/subscribe/")
    page.fill("input[name=email]", "new@example.org")
    page.click("button[type=submit]")
    found["check your inbox"] = axe_violations(page, SERIOUS)
    assert found == {url: [] for url in found}
