"""What a person does in the browser tests, written once."""

from tests.factories import PASSWORD


def new_page(browser, base_url: str):
    """A page in a browser context of its own (its own cookies), 1280 by 900 pixels; close page.context."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


def sign_in(page, username: str, *, password: str = PASSWORD, next: str = "/admin/") -> None:
    """The admin's sign-in form, filled in and sent."""
    page.goto(f"/admin/login/?next={next}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
