"""Production settings: HTTPS behind the proxy, security headers and CSP, secrets from the
environment or files, throttled admin sign-in."""

import json
import secrets
import time

import pytest
import time_machine
from django.test import Client

from chronicle.security import CONTENT_SECURITY_POLICY
from tests.factories import published_development
from tests.test_settings import manage

PRODUCTION = {"DEBUG": "false", "ALLOWED_HOSTS": "chronicle.example.org"}

PROBE = """
import json
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="chronicle.example.org")
def seen(response):
    return {"status": response.status_code, "headers": dict(response.headers)}
print(json.dumps({
    "plain_http": seen(client.get("/no-such-page/")),
    "https_via_proxy": seen(client.get("/no-such-page/", HTTP_X_FORWARDED_PROTO="https")),
    "health_over_http": seen(client.get("/healthz")),
    "settings": {name: str(getattr(settings, name)) for name in (
        "SECRET_KEY", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "DATABASES", "EMAIL_HOST_PASSWORD", "CACHES",
    )},
}))
"""


def production(tmp_path, **env):
    result = manage("shell", "-c", PROBE, CHRONICLE_VAR_DIR=str(tmp_path), **{**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_finds_nothing_to_warn_about_and_silences_nothing(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        SECRET_KEY=secrets.token_urlsafe(50),
        CACHE_URL="redis://127.0.0.1:6379/13",
        TRUSTED_PROXIES="1",
        CHRONICLE_VAR_DIR=str(tmp_path),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_redirects_to_https_and_sends_security_headers_behind_the_proxy(tmp_path):
    seen = production(tmp_path, SECRET_KEY=secrets.token_urlsafe(50))

    assert seen["plain_http"]["status"] == 301
    assert seen["plain_http"]["headers"]["Location"] == "https://chronicle.example.org/no-such-page/"
    # The load balancer's health check speaks plain HTTP inside the network.
    assert seen["health_over_http"]["status"] == 200

    page = seen["https_via_proxy"]
    headers = page["headers"]
    assert page["status"] == 404 and headers["Content-Type"].startswith("text/html")
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert seen["settings"]["SESSION_COOKIE_SECURE"] == seen["settings"]["CSRF_COOKIE_SECURE"] == "True"


def test_every_secret_can_come_from_a_file(tmp_path):
    secret_key = secrets.token_urlsafe(50)
    files = {
        "SECRET_KEY": secret_key,
        "DATABASE_URL": "postgres://chronicle:db-Secret-1@db.internal:5432/chronicle",
        "EMAIL_URL": "smtp://mailer:mail-Secret-2@smtp.internal:587?tls=true",
        "CACHE_URL": "redis://:cache-Secret-3@redis.internal:6379/1",
    }
    env = {}
    for name, value in files.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n")
        env[f"{name}_FILE"] = str(path)
    seen = production(tmp_path, **env)["settings"]
    assert seen["SECRET_KEY"] == secret_key
    assert "db-Secret-1" in seen["DATABASES"] and "db.internal" in seen["DATABASES"]
    assert seen["EMAIL_HOST_PASSWORD"] == "mail-Secret-2"
    assert "cache-Secret-3@redis.internal" in seen["CACHES"] and "RedisCache" in seen["CACHES"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CACHE_URL": "memcached://cache:11211"}, "CACHE_URL='memcached://cache:11211'"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES=-1"),
        ({"ADMIN_LOGIN_FAILURE_LIMIT": "0"}, "ADMIN_LOGIN_FAILURE_LIMIT"),
    ],
)
def test_a_bad_security_setting_stops_start_up_with_a_message(tmp_path, env, message):
    result = manage("check", CHRONICLE_VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr


# -- admin sign-in throttling ---------------------------------------------------------------------


@pytest.fixture
def sign_in(editor, second_editor):
    def attempt(username: str, password: str, address: str = "203.0.113.7", **headers):
        """Post the real admin sign-in form; the page shown after, or "" when signed in."""
        client = Client(REMOTE_ADDR=address)
        response = client.post("/admin/login/", {"username": username, "password": password}, **headers)
        return "" if response.status_code == 302 else response.content.decode()

    return attempt


BLOCKED = "Too many failed sign-in attempts"


def test_five_failures_block_that_username_from_that_address_even_with_the_right_password(sign_in, settings):
    assert settings.ADMIN_LOGIN_FAILURE_LIMIT == 5
    for _ in range(5):
        assert "Please enter the correct username and password" in sign_in("eddie-editor", "guess")
    refused = sign_in("eddie-editor", "correct-horse-battery")
    assert BLOCKED in refused and "15 more minute(s)" in refused
    # Another account, from another address, is not affected.
    assert sign_in("erin-editor", "correct-horse-battery", address="198.51.100.9") == ""

    with time_machine.travel(time.time() + 14 * 60):
        assert BLOCKED in sign_in("eddie-editor", "correct-horse-battery")
    with time_machine.travel(time.time() + 15 * 60 + 1):
        assert sign_in("eddie-editor", "correct-horse-battery") == ""


def test_nobody_can_lock_an_editor_out_by_failing_on_purpose(sign_in):
    # Case and surrounding spaces are folded, so variants count as the same username.
    for variant in ("eddie-editor", "Eddie-Editor", " eddie-editor ", "EDDIE-EDITOR", "eddie-editor"):
        sign_in(variant, "guess", address="192.0.2.66")
    assert BLOCKED in sign_in("eddie-editor", "correct-horse-battery", address="192.0.2.66")
    # The editor, at their own address, signs in as always.
    assert sign_in("eddie-editor", "correct-horse-battery", address="203.0.113.7") == ""


def test_a_successful_sign_in_starts_the_count_again(sign_in):
    for _ in range(4):
        sign_in("eddie-editor", "guess")
    assert sign_in("eddie-editor", "correct-horse-battery") == ""
    for _ in range(4):
        assert BLOCKED not in sign_in("eddie-editor", "guess")
    assert sign_in("eddie-editor", "correct-horse-battery") == ""


def test_one_address_guessing_many_accounts_is_blocked_and_cannot_hide_behind_a_forwarded_header(sign_in):
    for number in range(20):
        fake_client = f"10.0.0.{number}"
        sign_in(f"user-{number}", "guess", HTTP_X_FORWARDED_FOR=fake_client)
    # No proxy is trusted (TRUSTED_PROXIES=0), so every attempt counted against the real address.
    assert BLOCKED in sign_in("erin-editor", "correct-horse-battery")
    assert sign_in("erin-editor", "correct-horse-battery", address="198.51.100.9") == ""


def test_behind_trusted_proxies_the_forwarded_client_address_counts(sign_in, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"
    for number in range(20):
        sign_in(f"user-{number}", "guess", address=proxy, HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.7")
    assert BLOCKED in sign_in("erin-editor", "correct-horse-battery", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    # Another client behind the same proxy still signs in.
    assert sign_in("erin-editor", "correct-horse-battery", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9") == ""


# -- the content security policy in a real browser ---------------------------------------------------


@pytest.mark.browser
def test_pages_admin_and_api_docs_work_under_the_content_security_policy(page, curator, editor, django_user_model):
    from django.contrib.auth.models import Permission

    development_id = published_development(curator, editor)
    editor.user_permissions.add(Permission.objects.get(codename="view_developmentrecord"))
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    policies = []
    page.on("response", lambda response: policies.append(response.headers.get("content-security-policy")))

    for path in ("/", "/developments/beltelecom-5g-2021/", "/subscribe/"):
        policies.clear()
        assert page.goto(path).status == 200
        assert policies[0] == CONTENT_SECURITY_POLICY

    page.goto("/admin/")
    page.fill("#id_username", "eddie-editor")
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.goto(f"/admin/developments/developmentrecord/{development_id}/change/")
    page.wait_for_selector("#step-retract")
    # The editing page's own script (adding a row) runs from its file.
    rows = page.locator("#sources-group tbody tr.form-row, #sources-group tbody tr:not(.add-row)")
    before = rows.count()
    page.click("#sources-group [data-add-row]")
    assert rows.count() == before + 1

    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert page.locator(".swagger-ui .opblock").count() >= 8
    assert violations == []
