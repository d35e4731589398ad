"""The editorial story of issue 3, in Debian's chromium: two people, two browsers."""

import pytest
from playwright.sync_api import expect

from chronicle.developments.models import DevelopmentRecord, PublicDevelopment, PublicRevision
from chronicle.eventstore.models import Event
from tests.admin.conftest import LIST_URL, change_url

pytestmark = pytest.mark.browser


def _message(page, text):
    expect(page.locator("ul.messagelist")).to_contain_text(text)


def test_draft_review_publish_correct_and_the_guards(signed_in, curator, editor, screenshot):
    cora = signed_in("cora-curator", next=LIST_URL)
    eddie = signed_in("eddie-editor", next=LIST_URL)

    # The curator drafts a development with a source and submits it.
    cora.click("text=Add development")
    cora.fill("#id_slug", "beltelecom-huawei-5g-test")
    cora.fill("#id_title", "Beltelecom tests 5G with Huawei")
    cora.fill("#id_summary", "Beltelecom and Huawei ran a 5G test network in Minsk.")
    cora.select_option("#id_kind", "network-test")
    cora.fill("#id_date", "2021-06")
    cora.select_option("#id_countries_from", ["BY", "CN"])
    cora.click("#id_countries_add")
    cora.check("input[name=topics][value='5g']")
    cora.fill("#id_sources-0-title", "Beltelecom launches a 5G test zone")
    cora.fill("#id_sources-0-publisher", "Beltelecom")
    cora.fill("#id_sources-0-url", "https://example.org/beltelecom-5g")
    screenshot(cora, "curator-drafts")
    cora.click("input[name=_submit]")
    _message(cora, "Submitted for review")
    expect(cora.locator("#state")).to_have_text("In review")
    screenshot(cora, "curator-submitted")
    development_id = DevelopmentRecord.objects.get(slug="beltelecom-huawei-5g-test").pk

    # The editor finds it in the list and requests changes.
    eddie.reload()
    screenshot(eddie, "editor-list")
    eddie.click("text=Beltelecom tests 5G with Huawei")
    eddie.fill("#note-request-changes", "Please name the operator and the supplier as actors.")
    screenshot(eddie, "editor-requests-changes")
    eddie.click("#step-request-changes button")
    _message(eddie, "Sent back to the curators")

    # The curator sees the comment, revises and submits again.
    cora.reload()
    expect(cora.locator("#review-comment")).to_contain_text("Please name the operator")
    cora.fill("#id_actors-0-name", "Beltelecom")
    cora.fill("#id_actors-0-role", "operator")
    cora.click("text=Add another actor")
    cora.fill("#id_actors-1-name", "Huawei")
    cora.fill("#id_actors-1-role", "supplier")
    screenshot(cora, "curator-revises")
    cora.click("input[name=_submit]")
    expect(cora.locator("#state")).to_have_text("In review")

    # The editor publishes.
    eddie.reload()
    screenshot(eddie, "editor-reviews")
    eddie.click("#step-publish button")
    _message(eddie, "Published.")
    expect(eddie.locator("#state")).to_have_text("Published")
    screenshot(eddie, "editor-published")
    assert PublicDevelopment.objects.get(pk=development_id).status == "published"

    # Later the curator corrects the city; the editor compares and publishes a correction.
    cora.goto(change_url(development_id))
    cora.fill("#id_summary", "Beltelecom and Huawei ran a 5G test network in Brest.")
    cora.click("input[name=_submit]")
    expect(cora.locator("#state")).to_have_text("Published · revision in review")
    eddie.reload()
    eddie.click("#compare-link")
    expect(eddie.locator("#compare ins")).to_have_text("Brest.")
    screenshot(eddie, "editor-compares-with-published")
    eddie.go_back()
    eddie.fill("#note-publish-correction", "The test network was in Brest, not in Minsk.")
    eddie.click("#step-publish-correction button")
    _message(eddie, "The correction is published")
    screenshot(eddie, "editor-published-correction")
    public = PublicDevelopment.objects.get(pk=development_id)
    correction = PublicRevision.objects.filter(development=public).last()
    assert (correction.kind, correction.note) == ("corrected", "The test network was in Brest, not in Minsk.")
    eddie.goto(f"/developments/{public.slug}/")
    expect(eddie.locator("main")).to_contain_text("Beltelecom and Huawei ran a 5G test network in Brest.")
    expect(eddie.locator("main")).to_contain_text("The test network was in Brest, not in Minsk.")
    screenshot(eddie, "public-page-shows-the-correction")
    eddie.go_back()

    # A stale form: the editor saves while the curator is still typing.
    cora.goto(change_url(development_id))
    cora.fill("#id_summary", "The curator's summary, typed on a stale page.")
    eddie.goto(change_url(development_id))
    eddie.select_option("#id_stage", "completed")
    eddie.click("input[name=_save]")
    _message(eddie, "Saved.")
    cora.click("input[name=_save]")
    expect(cora.locator(".errorlist.nonfield")).to_contain_text("eddie-editor changed stage")
    expect(cora.locator("#their-changes")).to_contain_text("Completed")
    expect(cora.locator("#id_summary")).to_have_value("The curator's summary, typed on a stale page.")
    expect(cora.locator("#id_stage")).to_have_value("completed")
    screenshot(cora, "curator-gets-conflict")

    # The editor wrote this revision, so they cannot publish it.
    eddie.click("input[name=_submit]")
    expect(eddie.locator("#four-eyes")).to_contain_text("another editor must publish it")
    expect(eddie.locator("#step-publish-update")).to_have_count(0)
    expect(eddie.locator("#step-publish-correction")).to_have_count(0)
    screenshot(eddie, "editor-four-eyes")

    # Every step is in the history.
    eddie.click("text=History")
    expect(eddie.locator("#history tr.event")).to_have_count(Event.objects.filter(stream_id=development_id).count())
    screenshot(eddie, "history")
