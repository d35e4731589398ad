import pytest


@pytest.mark.browser
def test_a_staff_member_can_sign_in_to_the_admin(page, editor, screenshot):
    page.goto("/admin/")
    page.fill("#id_username", "eddie-editor")
    page.fill("#id_password", "correct-horse-battery")
    screenshot(page, "login")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    screenshot(page, "signed-in")
    assert "Site administration" in page.content()
