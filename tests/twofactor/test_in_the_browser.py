"""Two-factor sign-in in Debian's chromium: setting up by the page's QR code key, signing out,
signing in with the password and a code; every page branded and without serious axe findings."""

import pytest
from playwright.sync_api import expect

from tests.accessibility import axe_violations
from tests.browsing import sign_in

from .conftest import code, key_from_page

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")


def check_page(page, screenshot, name):
    screenshot(page, name)
    assert page.locator("#site-name").inner_text() == "Chronicle" and "Chronicle" in page.title()
    assert axe_violations(page, SERIOUS) == [], name


def test_when_required_a_curator_sets_up_two_factor_signs_out_and_signs_in_with_a_code(
    page, curator, settings, screenshot
):
    settings.ADMIN_REQUIRE_TWO_FACTOR = True

    # The password alone leads to setting up an authenticator, and nowhere else.
    sign_in(page, "cora-curator", next="/admin/developments/developmentrecord/")
    expect(page.locator("h1")).to_have_text("Set up two-factor sign-in")
    check_page(page, screenshot, "set-up")
    expect(page.locator(".qr-code svg")).to_be_visible()
    page.goto("/admin/developments/developmentrecord/")
    expect(page.locator("h1")).to_have_text("Set up two-factor sign-in")

    # The app is given the key as typed in (a scan gives it the same), and its code turns it on.
    key = key_from_page(page.locator("#totp-key").inner_text())
    page.fill("#id_code", code(key))
    page.click("#code-form input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("Two-factor sign-in is on for your account")
    expect(page.locator("#backup-codes li")).to_have_count(10)
    check_page(page, screenshot, "backup-codes")
    page.click("text=Continue")
    expect(page.locator("#changelist")).to_be_visible()

    page.click("#logout-form button")
    expect(page.locator("h1")).to_contain_text("Logged out")

    # Signing in again: the password, then a code; a wrong one is refused.
    sign_in(page, "cora-curator", next="/admin/developments/developmentrecord/")
    expect(page.locator("h1")).to_have_text("Enter your code")
    check_page(page, screenshot, "code-step")
    right = code(key, steps_ahead=1)  # the code set-up used is spent; the app shows the next one soon
    page.fill("#id_code", f"{(int(right) + 1) % 1_000_000:06d}")
    page.click("#code-form input[type=submit]")
    expect(page.locator(".errorlist")).to_contain_text("That code is not right")
    check_page(page, screenshot, "wrong-code")
    page.goto("/admin/developments/")
    expect(page.locator("h1")).to_have_text("Enter your code")

    page.wait_for_timeout(1100)  # django-otp takes no code for a second after a wrong one
    page.fill("#id_code", right)
    page.click("#code-form input[type=submit]")
    expect(page.locator("h1")).to_have_text("Developments administration")


def test_an_editor_turns_two_factor_on_and_then_signs_in_with_a_backup_code(page, editor, settings, screenshot):
    settings.ADMIN_REQUIRE_TWO_FACTOR = False
    sign_in(page, "eddie-editor")
    expect(page.locator("#site-name")).to_be_visible()
    page.click("#user-tools >> text=Two-factor sign-in")
    expect(page.locator("#content-main")).to_contain_text("Off.")
    check_page(page, screenshot, "overview-off")
    page.click("text=Set up two-factor sign-in")
    page.fill("#id_code", code(key_from_page(page.locator("#totp-key").inner_text())))
    page.click("#code-form input[type=submit]")
    backup_code = page.locator("#backup-codes li").first.inner_text()
    page.click("text=Continue")
    page.click("#user-tools >> text=Two-factor sign-in")
    expect(page.locator("#backup-codes-left")).to_have_text("10")
    check_page(page, screenshot, "overview-on")

    page.click("#logout-form button")
    sign_in(page, "eddie-editor")
    expect(page.locator("h1")).to_have_text("Enter your code")
    page.fill("#id_code", backup_code)
    page.click("#code-form input[type=submit]")
    expect(page.locator("h1")).to_have_text("Site administration")
    page.click("#user-tools >> text=Two-factor sign-in")
    expect(page.locator("#backup-codes-left")).to_have_text("9")
