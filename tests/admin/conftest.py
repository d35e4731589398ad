"""Helpers for admin pages (the users are the root conftest's)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browsing import new_page, sign_in


@pytest.fixture
def signed_in(browser, live_server):
    """signed_in("cora-curator") opens a browser of their own, signed in through the form."""
    pages = []

    def open_as(username: str, next: str = "/admin/"):
        pages.append(new_page(browser, live_server.url))
        sign_in(pages[-1], username, next=next)
        expect(pages[-1].locator("#site-name")).to_be_visible()
        return pages[-1]

    yield open_as
    for page in pages:
        page.context.close()


def change_url(development_id):
    return reverse("admin:developments_developmentrecord_change", args=[development_id])


def step_url(development_id, step):
    return reverse("admin:developments_developmentrecord_workflow", args=[development_id, step])


def history_url(development_id):
    return reverse("admin:developments_developmentrecord_history", args=[development_id])


ADD_URL = "/admin/developments/developmentrecord/add/"
LIST_URL = "/admin/developments/developmentrecord/"


def form_data(content, *, version=None, slug=None, **extra):
    """POST data of the development form for `content` (a content dict)."""
    data = {key: content.get(key, "") for key in ("title", "summary", "kind", "stage", "date", "date_basis")}
    data["related"] = " ".join(content.get("related", []))
    data["countries"] = list(content.get("countries", []))
    data["topics"] = list(content.get("topics", []))
    if version is not None:
        data["version"] = str(version)
    if slug is not None:
        data["slug"] = slug
    for part in ("sources", "actors", "amounts", "places"):
        rows = content.get(part, [])
        data[f"{part}-TOTAL_FORMS"] = str(len(rows))
        data[f"{part}-INITIAL_FORMS"] = str(len(rows))
        for index, row in enumerate(rows):
            for key, value in row.items():
                data[f"{part}-{index}-{key}"] = "" if value is None else str(value)
    data.update(extra)
    return data
