"""The admin shows each endpoint with its delivery log, in Debian's chromium."""

import pytest
from playwright.sync_api import expect

from chronicle.webhooks import delivery, endpoints
from tests.browsing import sign_in

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def test_an_operator_reads_an_endpoints_delivery_log_and_pauses_it(
    page, django_user_model, receiver, publish, screenshot
):
    django_user_model.objects.create_superuser("olga-operator", "olga@example.org", PASSWORD)
    hooks = receiver(answers=[503])
    endpoint, hooks.secret = endpoints.register(hooks.url, description="Acme newsroom")
    publish("beltelecom-5g")
    delivery.deliver_due()  # 503: failed, to be retried
    endpoint.__class__.objects.filter(pk=endpoint.pk).update(next_attempt_at=None)
    delivery.deliver_due()  # delivered

    sign_in(page, "olga-operator", next="/admin/webhooks/endpoint/")
    expect(page.locator("#result_list")).to_contain_text(hooks.url)
    page.click(f"text={hooks.url}")

    log = page.locator("table.delivery-log")
    expect(log).to_be_visible()
    rows = log.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Delivered")
    expect(rows.nth(0)).to_contain_text("200")
    expect(rows.nth(1)).to_contain_text("Failed, will retry")
    expect(rows.nth(1)).to_contain_text("503")
    expect(rows.nth(0)).to_contain_text(hooks.requests[0].webhook_id)
    screenshot(page, "delivery-log")

    page.goto("/admin/webhooks/endpoint/")
    page.check(f"#result_list input[value='{endpoint.pk}']")
    page.select_option("select[name=action]", "pause")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Paused 1 endpoints.")
    expect(page.locator("#result_list")).to_contain_text("Paused")
