"""Two-factor sign-in to the admin: the code step, setting up, backup codes, the requirement,
and the sign-in throttle over both steps."""

import re
import time

import pytest
import time_machine
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from chronicle.twofactor import devices
from tests.test_settings import manage

from .conftest import code, key_from_page

CODE_STEP = "/admin/two-factor/code/"
SET_UP = "/admin/two-factor/set-up/"
BLOCKED = "Too many failed sign-in attempts"
WRONG = "That code is not right"
ADMIN_PAGES = ("/admin/", "/admin/developments/developmentrecord/", "/admin/password_change/", "/admin/two-factor/")


def enter(client, value, next="/admin/"):
    return client.post(CODE_STEP, {"code": value, "next": next})


def shown_key(page: str) -> bytes:
    return key_from_page(re.search(r'<code id="totp-key">([A-Z2-7 ]+)</code>', page).group(1))


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


@pytest.fixture
def clock():
    """Time that tests move on by hand (past django-otp's back-off between wrong codes)."""
    with time_machine.travel(time.time(), tick=True) as traveller:
        yield traveller


# -- the code step ------------------------------------------------------------------------------------


def test_with_an_authenticator_the_password_alone_opens_no_admin_page(sign_in, authenticator):
    client = sign_in(next="/admin/developments/developmentrecord/")
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(f"{CODE_STEP}?next="), path
    page = client.get(client.get("/admin/developments/developmentrecord/")["Location"]).content.decode()
    assert "Enter the 6-digit code" in page and 'autocomplete="one-time-code"' in page

    password_only_session = client.cookies["sessionid"].value
    response = enter(client, code(authenticator.bin_key), next="/admin/developments/developmentrecord/")
    assert response.status_code == 302 and response["Location"] == "/admin/developments/developmentrecord/"
    assert client.cookies["sessionid"].value != password_only_session
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 200, path


def test_a_wrong_code_is_refused_with_a_message_that_says_what_to_do(sign_in, authenticator, clock):
    client = sign_in()
    right = code(authenticator.bin_key)
    page = enter(client, wrong_code(right)).content.decode()
    assert WRONG in page and "6-digit code your authenticator app shows now" in page
    assert client.get("/admin/").status_code == 302
    # django-otp's back-off: a second after a wrong code, the right one goes through.
    assert "try again in 1 second(s)" in enter(client, right).content.decode()
    clock.shift(1.1)
    assert enter(client, right).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_code_is_only_good_once(sign_in, authenticator):
    right = code(authenticator.bin_key)
    assert enter(sign_in(), right).status_code == 302
    assert WRONG in enter(sign_in(), right).content.decode()


def test_the_code_step_goes_on_to_this_site_only(sign_in, authenticator):
    response = enter(sign_in(), code(authenticator.bin_key), next="https://evil.example/")
    assert response["Location"] == "/admin/"


def test_without_an_authenticator_and_not_required_the_password_is_enough(sign_in, editor, settings):
    settings.ADMIN_REQUIRE_TWO_FACTOR = False
    client = sign_in()
    assert client.response["Location"] == "/admin/"
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 200, path
    assert client.get(CODE_STEP)["Location"] == "/admin/"  # nothing to enter


# -- when every staff account must use it ----------------------------------------------------------


def test_when_required_a_staff_account_without_an_authenticator_must_set_one_up_first(sign_in, editor, settings):
    settings.ADMIN_REQUIRE_TWO_FACTOR = True
    client = sign_in()
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(f"{SET_UP}?next="), path
    page = client.get(f"{SET_UP}?next=/admin/").content.decode()
    assert "Every staff account signs in with its password and a code" in page
    assert "<svg" in page and 'role="img"' in page
    key = shown_key(page)
    # Reloading shows the same key: the one someone may already have scanned.
    assert shown_key(client.get(SET_UP).content.decode()) == key

    done = client.post(SET_UP, {"code": code(key, steps_ahead=1), "next": "/admin/"}).content.decode()
    assert "Two-factor sign-in is on for your account" in done
    shown = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done)
    assert len(shown) == 10 and len(set(shown)) == 10
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 200, path
    # From now on the account gives a code at every sign-in.
    assert sign_in().get("/admin/")["Location"].startswith(CODE_STEP)


def test_when_required_an_account_that_is_not_staff_is_not_asked_to_set_one_up(client, partner, settings):
    settings.ADMIN_REQUIRE_TWO_FACTOR = True
    client.force_login(partner)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_setting_up_refuses_a_wrong_code_and_keeps_the_key(sign_in, editor, settings, clock):
    settings.ADMIN_REQUIRE_TWO_FACTOR = True
    client = sign_in()
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=editor, confirmed=False)
    page = client.post(SET_UP, {"code": wrong_code(code(device.bin_key))}).content.decode()
    assert WRONG in page and "check that your phone" in page
    assert client.get("/admin/")["Location"].startswith(SET_UP)
    clock.shift(1.1)
    assert "Two-factor sign-in is on" in client.post(SET_UP, {"code": code(device.bin_key)}).content.decode()


# -- backup codes ---------------------------------------------------------------------------------------


def test_a_backup_code_signs_in_once(sign_in, editor, authenticator, clock):
    first, second = devices.new_backup_codes(editor)[:2]
    client = sign_in()
    assert enter(client, first.upper()).status_code == 302  # as typed, in any case
    assert client.get("/admin/").status_code == 200
    assert WRONG in enter(sign_in(), first).content.decode()
    clock.shift(1.1)
    assert enter(sign_in(), f"{second[:4]} {second[4:]}").status_code == 302
    assert StaticToken.objects.filter(device__user=editor).count() == 8


def test_new_backup_codes_replace_the_old_ones(sign_in, editor, authenticator, clock):
    old = devices.new_backup_codes(editor)
    client = sign_in()
    enter(client, old[0])
    assert 'id="backup-codes-left">9<' in client.get("/admin/two-factor/").content.decode()
    page = client.post("/admin/two-factor/backup-codes/").content.decode()
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    assert len(new) == 10 and "Your earlier backup codes no longer work" in page
    assert WRONG in enter(sign_in(), old[1]).content.decode()
    clock.shift(1.1)
    assert enter(sign_in(), new[0]).status_code == 302


# -- the throttle over both steps -------------------------------------------------------------------


@pytest.fixture
def guess_codes(authenticator, clock):
    def guess(client, times=1) -> str:
        """`times` wrong codes from `client` (or from a new password step each, given `sign_in`),
        each past django-otp's own back-off; the last page."""
        for _ in range(times):
            clock.shift(60)
            response = enter(client() if callable(client) else client, wrong_code(code(authenticator.bin_key)))
        return response.content.decode()

    return guess


def test_wrong_codes_count_as_failed_sign_ins_and_the_lockout_covers_both_steps(
    sign_in, authenticator, clock, guess_codes
):
    client = sign_in()
    assert WRONG in guess_codes(client, 5)
    refused = enter(client, code(authenticator.bin_key)).content.decode()
    assert BLOCKED in refused and "15 more minute(s)" in refused
    assert BLOCKED in sign_in().response.content.decode()
    # The editor at another address goes on, once the authenticator's own back-off (16 s after
    # a fifth wrong code in a row, from any address) has passed.
    other = sign_in(address="198.51.100.9")
    assert "try again in" in enter(other, code(authenticator.bin_key)).content.decode()
    clock.shift(16)
    assert enter(other, code(authenticator.bin_key)).status_code == 302


def test_wrong_passwords_and_wrong_codes_add_up(sign_in, authenticator, guess_codes):
    for _ in range(3):
        assert "Please enter the correct username and password" in sign_in(password="guess").response.content.decode()
    client = sign_in()
    guess_codes(client, 2)
    assert BLOCKED in enter(client, code(authenticator.bin_key)).content.decode()


def test_knowing_the_password_does_not_reset_the_count_between_guesses_at_the_code(sign_in, authenticator, guess_codes):
    guess_codes(sign_in, 4)
    client = sign_in()  # the right password: still one failure from the lockout
    guess_codes(client)
    assert BLOCKED in enter(client, code(authenticator.bin_key)).content.decode()


def test_a_right_code_starts_the_count_again(sign_in, authenticator, clock, guess_codes):
    guess_codes(sign_in, 4)
    clock.shift(60)
    assert enter(sign_in(), code(authenticator.bin_key)).status_code == 302
    guess_codes(sign_in, 4)
    clock.shift(60)
    assert enter(sign_in(), code(authenticator.bin_key, steps_ahead=1)).status_code == 302


# -- the setting ---------------------------------------------------------------------------------------

PROBE = "from django.conf import settings; print(settings.ADMIN_REQUIRE_TWO_FACTOR)"


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({"DEBUG": "false", "SECRET_KEY": "a-long-random-production-key-" * 2, "ALLOWED_HOSTS": "x"}, "True"),
        ({"DEBUG": "true"}, "False"),
        ({"DEBUG": "true", "ADMIN_REQUIRE_TWO_FACTOR": "true"}, "True"),
    ],
)
def test_two_factor_is_required_in_production_and_not_in_the_demo_unless_set(tmp_path, env, required):
    result = manage("shell", "-c", PROBE, CHRONICLE_VAR_DIR=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == required


def test_a_bad_value_stops_start_up_with_a_message(tmp_path):
    result = manage("check", CHRONICLE_VAR_DIR=str(tmp_path), ADMIN_REQUIRE_TWO_FACTOR="sometimes")
    assert result.returncode != 0
    assert "ADMIN_REQUIRE_TWO_FACTOR='sometimes' is not a boolean" in result.stderr, result.stderr


def test_the_api_counts_a_session_that_still_owes_its_code_as_anonymous(sign_in, authenticator, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "2/minute", "partner": "100/minute"},
    }
    client = sign_in()
    assert [client.get("/api/v1/topics/").status_code for _ in range(3)] == [200, 200, 429]

    enter(client, code(authenticator.bin_key))
    assert [client.get("/api/v1/topics/").status_code for _ in range(3)] == [200, 200, 200]
