import re

import pytest

from chronicle.developments import commands
from chronicle.developments.models import DevelopmentRecord
from chronicle.domain.content import Content
from chronicle.eventstore.models import Event
from tests.admin.conftest import ADD_URL, LIST_URL, change_url, form_data, history_url
from tests.factories import content_data, published_development

pytestmark = pytest.mark.django_db


def _errors(html):
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html)]


def test_adding_drafts_through_the_command_layer(client, curator):
    client.force_login(curator)
    response = client.post(ADD_URL, form_data(content_data(), slug="beltelecom-5g"))
    record = DevelopmentRecord.objects.get(slug="beltelecom-5g")
    assert response.status_code == 302 and response["Location"] == change_url(record.pk)
    event = Event.objects.get()
    assert event.type == "development.drafted"
    assert event.metadata["origin"] == "admin"
    assert event.metadata["actor"]["username"] == "cora-curator"
    assert event.data["content"] == Content.from_dict(content_data()).to_dict()


def test_an_amount_takes_a_qualifier_and_a_period_and_a_bad_period_is_named(client, curator):
    client.force_login(curator)
    page = client.get(ADD_URL).content.decode()
    assert 'name="amounts-0-qualifier"' in page and 'name="amounts-0-period"' in page
    amount = {"value": "500", "unit": "jobs", "measures": "jobs created", "qualifier": "more-than"}
    response = client.post(ADD_URL, form_data(content_data(amounts=[{**amount, "period": "2021-13"}]), slug="jobs"))
    assert response.status_code == 200
    assert any(
        error.startswith("Period “2021-13”: month 13 does not exist") for error in _errors(response.content.decode())
    )
    assert not Event.objects.exists()
    client.post(ADD_URL, form_data(content_data(amounts=[{**amount, "period": "2019/2021"}]), slug="jobs"))
    assert Event.objects.get().data["content"]["amounts"] == [{**amount, "period": "2019/2021"}]


def test_the_date_basis_and_related_slugs_are_edited_in_the_form_and_kept_on_revision(client, curator):
    content = content_data(date="../2015-06-18", date_basis="bounded", related=["treaty-2015", "visit-2015"])
    client.force_login(curator)
    client.post(ADD_URL, form_data({**content, "related": []}, slug="polonez", related="treaty-2015, visit-2015"))
    record = DevelopmentRecord.objects.get(slug="polonez")
    assert (record.content["date_basis"], record.content["related"]) == ("bounded", ["treaty-2015", "visit-2015"])
    page = client.get(change_url(record.pk)).content.decode()
    assert 'value="treaty-2015 visit-2015"' in page
    client.post(change_url(record.pk), form_data({**content, "title": "Polonez test"}, version=record.version))
    record.refresh_from_db()
    assert record.title == "Polonez test"
    assert (record.content["date_basis"], record.content["related"]) == ("bounded", ["treaty-2015", "visit-2015"])


def test_without_a_slug_one_is_derived_from_the_title(client, curator):
    client.force_login(curator)
    client.post(ADD_URL, form_data(content_data(title="Minsk hosts ITU forum")))
    client.post(ADD_URL, form_data(content_data(title="Minsk hosts ITU forum")))
    slugs = DevelopmentRecord.objects.order_by("created_at").values_list("slug", flat=True)
    assert list(slugs) == ["minsk-hosts-itu-forum", "minsk-hosts-itu-forum-2"], "a number only on a collision"


def test_every_invalid_field_is_reported_next_to_its_input_and_nothing_is_recorded(client, curator):
    client.force_login(curator)
    data = content_data(
        title="",
        date="June 2021",
        countries=[],
        sources=[
            {"title": "Report", "publisher": "Beltelecom", "url": "https://example.org/ok"},
            {"title": "Second", "publisher": "", "url": "javascript:alert(1)"},
        ],
        places=[{"name": "Minsk", "country": "BY", "lat": "53.9", "lon": ""}],
    )
    response = client.post(ADD_URL, form_data(data, slug="bad-input"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html
    errors = _errors(html)
    assert "Title is required." in errors
    assert any(error.startswith("Date ") for error in errors)
    assert "Countries needs at least one entry." in errors
    assert "URL “javascript:alert(1)” is not an http(s) address." in errors
    assert "This source needs a publisher or an author." in errors
    assert "This place give both latitude and longitude, or neither." in errors
    # The second source row carries its own errors, and the input is kept.
    second_row = html[html.index('id="sources-1"') - 600 : html.index('id="sources-1"') + 2000]
    assert "needs a publisher or an author" in second_row and 'value="javascript:alert(1)"' in second_row
    assert not Event.objects.exists()


def test_a_forged_choice_is_a_form_error_not_a_server_error(client, curator):
    client.force_login(curator)
    response = client.post(ADD_URL, form_data(content_data(kind="coup", countries=["XX"])))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Event.objects.exists()


def test_a_taken_slug_is_reported(client, curator):
    commands.draft_development(content_data(), actor=curator, slug="taken-slug")
    client.force_login(curator)
    response = client.post(ADD_URL, form_data(content_data(), slug="taken-slug"))
    assert "already exists; choose another slug." in response.content.decode()
    assert Event.objects.count() == 1


def test_markup_is_stored_as_text_and_shown_escaped_everywhere(client, curator, editor):
    script = "<script>alert('x')</script>"
    development_id = published_development(curator, editor, title=f"Minsk {script}", summary=f"<b>bold</b> {script}")
    commands.revise_development(
        development_id, content_data(title=f"Brest {script}", summary=f"<i>it</i> {script}"), actor=curator
    )
    commands.submit_development(development_id, actor=curator)
    commands.request_changes(development_id, f"Fix {script}", actor=editor)
    assert DevelopmentRecord.objects.get().content["title"] == f"Brest {script}"
    client.force_login(editor)
    for url in (LIST_URL, change_url(development_id), history_url(development_id)):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<b>bold</b>" not in html and "<i>it</i>" not in html, url
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html, url


def test_revising_a_published_development_keeps_the_public_version_until_review(client, curator, editor):
    development_id = published_development(curator, editor)
    record = DevelopmentRecord.objects.get()
    client.force_login(curator)
    data = form_data(record.content, version=record.version, title="Beltelecom tests 5G with ZTE", _submit="1")
    response = client.post(change_url(development_id), data, follow=True)
    assert "Saved." in response.content.decode() and "Submitted for review" in response.content.decode()
    record.refresh_from_db()
    assert record.workflow == "in_review" and record.has_pending_revision
    assert record.published_content["title"] == "Beltelecom tests 5G with Huawei"
    assert [e.type for e in Event.objects.order_by("position")][-2:] == ["development.revised", "development.submitted"]


def test_a_development_in_review_is_locked(client, curator):
    outcome = commands.draft_development(content_data(), actor=curator, slug="locked")
    commands.submit_development(outcome.development_id, actor=curator)
    client.force_login(curator)
    page = client.get(change_url(outcome.development_id)).content.decode()
    assert "the content is locked" in page and 'value="Save draft"' not in page
    assert 'id="facts"' in page and 'name="title"' not in page
    response = client.post(change_url(outcome.development_id), form_data(content_data(title="Changed"), version=2))
    assert "Cannot revise a development that is in review" in response.content.decode()
    assert Event.objects.count() == 2


def test_a_page_opened_before_the_submission_gets_a_conflict_not_an_error(client, curator, second_curator):
    outcome = commands.draft_development(content_data(), actor=curator, slug="submitted-meanwhile")
    commands.submit_development(outcome.development_id, actor=second_curator)
    client.force_login(curator)
    response = client.post(change_url(outcome.development_id), form_data(content_data(title="Mine"), version=1))
    html = response.content.decode()
    assert response.status_code == 200
    assert "cora-curator-2 submitted it for review" in html and 'value="Mine"' in html
    assert Event.objects.count() == 2


def test_a_stale_form_is_refused_naming_who_changed_what_and_keeps_the_input(client, curator, editor):
    outcome = commands.draft_development(content_data(), actor=curator, slug="contested")
    loaded = DevelopmentRecord.objects.get()
    commands.revise_development(
        outcome.development_id, content_data(summary="The editor's better summary."), actor=editor
    )
    client.force_login(curator)
    data = form_data(loaded.content, version=loaded.version, title="The curator's new title")
    response = client.post(change_url(outcome.development_id), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "changed by someone else after you opened it: eddie-editor changed summary" in html
    assert 'value="The curator&#x27;s new title"' in html  # the input stays
    assert "The editor&#x27;s better summary.</textarea>" in html  # their change is not undone
    assert 'name="version" value="2"' in html  # a second save is against what they now see
    their_changes = html[html.index('id="their-changes"') : html.index("<h2>Facts</h2>")]
    assert "<ins>better</ins>" in their_changes
    assert DevelopmentRecord.objects.get().title == "Beltelecom tests 5G with Huawei"
    assert Event.objects.count() == 2

    response = client.post(change_url(outcome.development_id), {**data, "version": "2", "summary": "Merged."})
    assert response.status_code == 302
    assert (DevelopmentRecord.objects.get().title, DevelopmentRecord.objects.get().content["summary"]) == (
        "The curator's new title",
        "Merged.",
    )


def test_after_a_conflict_parts_the_curator_left_alone_show_the_current_rows(client, curator, editor):
    outcome = commands.draft_development(content_data(), actor=curator, slug="contested-rows")
    loaded = DevelopmentRecord.objects.get()
    extra_source = {"title": "ITU news", "publisher": "ITU", "url": "https://example.org/itu"}
    commands.revise_development(
        outcome.development_id, content_data(sources=[*content_data()["sources"], extra_source]), actor=editor
    )
    client.force_login(curator)
    data = form_data(loaded.content, version=loaded.version, title="A new title")
    html = client.post(change_url(outcome.development_id), data).content.decode()
    assert 'name="sources-1-title" value="ITU news"' in html
    assert "You changed" not in html


def test_saving_without_changes_records_nothing(client, curator):
    commands.draft_development(content_data(), actor=curator, slug="unchanged")
    record = DevelopmentRecord.objects.get()
    client.force_login(curator)
    response = client.post(change_url(record.pk), form_data(record.content, version=record.version), follow=True)
    assert "Nothing had changed, so nothing was recorded." in response.content.decode()
    assert Event.objects.count() == 1


def test_rows_can_be_deleted_and_blank_rows_are_ignored(client, curator):
    commands.draft_development(content_data(), actor=curator, slug="rows")
    record = DevelopmentRecord.objects.get()
    client.force_login(curator)
    data = form_data(record.content, version=record.version, **{"actors-1-DELETE": "on"})
    data.update({"actors-TOTAL_FORMS": "3", "actors-2-name": "", "actors-2-role": ""})
    assert client.post(change_url(record.pk), data).status_code == 302
    assert DevelopmentRecord.objects.get().content["actors"] == [{"name": "Beltelecom", "role": "operator"}]


def test_the_list_shows_state_kind_date_countries_topics_and_filters(client, curator, editor):
    published_development(curator, editor, slug="by-cn", countries=["BY", "CN"], date="2021~")
    russian = content_data(
        title="Russian decree", countries=["RU"], kind="decree", actors=[{"name": "Rostelecom", "role": "operator"}]
    )
    commands.draft_development(russian, actor=curator)
    client.force_login(editor)
    html = client.get(LIST_URL).content.decode()
    for text in ("Published", "Draft", "Network test", "2021~", "BY, CN", "5G", "cora-curator", "eddie-editor"):
        assert text in html
    assert "Russian decree" not in client.get(LIST_URL, {"country": "BY"}).content.decode()
    assert "Russian decree" in client.get(LIST_URL, {"country": "RU"}).content.decode()
    assert "Russian decree" in client.get(LIST_URL, {"kind": "decree"}).content.decode()
    assert "Beltelecom" not in client.get(LIST_URL, {"workflow__exact": "draft"}).content.decode()
    assert "Beltelecom" not in client.get(LIST_URL, {"q": "rostelecom"}).content.decode()
    assert "Russian decree" in client.get(LIST_URL, {"q": "rostelecom"}).content.decode()
    assert "Beltelecom" in client.get(LIST_URL, {"topic": "5g", "o": "4"}).content.decode()


def test_markup_in_invalid_input_is_escaped_in_the_error_messages(client, curator):
    client.force_login(curator)
    sources = [{"title": "x", "publisher": "y", "url": "<script>alert(1)</script>"}]
    html = client.post(ADD_URL, form_data(content_data(sources=sources, kind=""))).content.decode()
    assert "URL “&lt;script&gt;alert(1)&lt;/script&gt;” is not an http(s) address." in html
    assert "<script>alert(1)" not in html


def test_a_development_with_the_most_rows_the_domain_allows_can_be_saved(client, curator):
    from chronicle.domain.content import MAX_ITEMS

    rows = range(MAX_ITEMS)
    content = content_data(
        actors=[{"name": f"Operator {n}", "role": "operator"} for n in rows],
        sources=[{"title": f"Report {n}", "publisher": "Beltelecom", "url": f"https://example.org/{n}"} for n in rows],
        amounts=[{"value": str(n), "unit": "Gbit/s", "measures": f"speed at site {n}"} for n in rows],
        places=[{"name": f"Site {n}", "country": "BY", "lat": 53.9, "lon": 27.5667} for n in rows],
    )
    client.force_login(curator)
    response = client.post(ADD_URL, form_data(content, slug="the-largest-development"))
    assert response.status_code == 302, _errors(response.content.decode())
    assert Event.objects.get().data["content"]["places"][-1]["name"] == f"Site {MAX_ITEMS - 1}"


def test_submitting_a_published_development_unchanged_says_plainly_that_nothing_changed(client, curator, editor):
    development_id = published_development(curator, editor)
    client.force_login(curator)
    data = form_data(content_data())
    data["version"] = str(DevelopmentRecord.objects.get(pk=development_id).version)
    data["_submit"] = "1"
    page = client.post(change_url(development_id), data, follow=True).content.decode()
    assert "Nothing changed since it was published, so there is nothing to review." in page
    assert "must be" not in page
    assert DevelopmentRecord.objects.get(pk=development_id).workflow == "published"
