"""Settings come from the environment; production settings pass Django's deploy checks."""

import email
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest

from tests.services import ROOT, wait_for


def manage(*args, **env):
    """Run manage.py with `env` on a clean environment: DEBUG on unless `env` says otherwise
    (DEBUG=None leaves it unset, to see the default)."""
    command, options = _manage_command(args, env)
    return subprocess.run(command, **options, capture_output=True, text=True)


def manage_in_background(*args, **env) -> subprocess.Popen:
    """`manage` without waiting for it."""
    command, options = _manage_command(args, env)
    return subprocess.Popen(command, **options, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _manage_command(args, env) -> tuple[list[str], dict]:
    unset = (
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "DJANGO_SETTINGS_MODULE",
    )
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    env = {key: value for key, value in {"DEBUG": "true", **env}.items() if value is not None}
    return [sys.executable, "manage.py", *args], {"cwd": ROOT, "env": {**clean, **env}}


def test_production_settings_pass_check_deploy_without_a_warning(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="chronicle.example.org",
        CHRONICLE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secrets_can_come_from_files(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(secrets.token_urlsafe(50) + "\n")
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY_FILE=str(secret_file),
        ALLOWED_HOSTS="chronicle.example.org",
        CHRONICLE_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false", "ALLOWED_HOSTS": "x"}, "SECRET_KEY is required"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://localhost/chronicle"}, "use sqlite:///"),
        ({"EMAIL_URL": "ftp://mail.example.org"}, "EMAIL_URL='ftp://mail.example.org'"),
        ({"SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE=/nonexistent/secret cannot be read"),
    ],
)
def test_a_bad_setting_stops_start_up_with_a_message_that_says_what_to_fix(tmp_path, env, message):
    result = manage("check", CHRONICLE_VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr


def test_debug_is_off_unless_asked_for_and_never_with_the_public_development_key(tmp_path):
    unset = manage("check", DEBUG=None, ALLOWED_HOSTS="chronicle.example.org", CHRONICLE_VAR_DIR=str(tmp_path))
    assert unset.returncode != 0 and "SECRET_KEY is required when DEBUG is off" in unset.stderr
    development_key = manage(
        "check",
        DEBUG=None,
        SECRET_KEY="embedded-development-key-not-for-production",
        ALLOWED_HOSTS="chronicle.example.org",
        CHRONICLE_VAR_DIR=str(tmp_path),
    )
    assert development_key.returncode != 0 and "public development key" in development_key.stderr
    assert manage("check", DEBUG="true", CHRONICLE_VAR_DIR=str(tmp_path)).returncode == 0
    assert "export DEBUG=${DEBUG:-true}" in (ROOT / "bin" / "run").read_text()


def test_links_in_feeds_and_emails_follow_port_when_site_url_is_unset(tmp_path):
    """PORT=8123 bin/run serves on 8123: the feeds and the mail it writes must point there."""
    env = {"PORT": "8123", "CHRONICLE_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    assert manage("migrate", "--noinput", **env).returncode == 0
    subscribe = (
        "from chronicle.digests import confirmations, subscriptions; from chronicle.digests.models import Subscriber; "
        "subscriptions.subscribe('reader@example.org', topics=[], countries=[], frequency='daily'); "
        "subscriber = Subscriber.objects.get(); confirmations.send_subscription_email(subscriber.id); "
        "subscriptions.confirm(subscriber)"
    )
    for args in (
        ("shell", "-c", subscribe),
        ("load_chronicle", "tests/developments/sources/chronicle.json"),
        ("publish_feeds",),
        ("send_digests", "--frequency", "daily", "--day", "2100-01-01"),
    ):
        result = manage(*args, **env)
        assert result.returncode == 0, result.stdout + result.stderr
    written = [path for folder in ("feeds", "mail") for path in (tmp_path / folder).rglob("*") if path.is_file()]
    mails = [email.message_from_string(path.read_text()) for path in written if "mail" in path.parts]
    assert sorted(bool(m["List-Unsubscribe"]) for m in mails) == [False, True], "a confirmation and a digest"
    unsubscribe = next(m["List-Unsubscribe"] for m in mails if m["List-Unsubscribe"])
    assert " ".join(unsubscribe.split()).startswith("<http://127.0.0.1:8123/unsubscribe/")
    for path in written:
        text = path.read_text()
        assert "127.0.0.1:8000" not in text, path
        assert "http://127.0.0.1:8123/" in text, path


def test_site_url_wins_over_port():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL)",
        PORT="8123",
        SITE_URL="https://chronicle.example.org/",
    )
    assert result.stdout.strip().splitlines()[-1] == "https://chronicle.example.org"


def test_a_port_that_is_not_a_port_is_refused():
    result = manage("check", PORT="80000")
    assert result.returncode != 0 and "PORT=80000 must be a TCP port" in result.stderr


def test_first_start_prints_each_line_once_and_no_broker_warning(tmp_path):
    """What a newcomer sees from bin/run: runserver's lines once each, no kombu warning."""
    env = {**os.environ, "DEBUG": "true", "CHRONICLE_VAR_DIR": str(tmp_path)}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the autoreloader's child goes with it
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    reader.start()
    request_line = '"GET /healthz HTTP/1.1" 200'
    try:

        def answers() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
            except OSError:
                return False

        wait_for(answers, timeout=60, explain=lambda: "runserver did not answer")
        # The request is logged just after it is answered.
        wait_for(lambda: request_line in "".join(lines), timeout=10, explain=lambda: "".join(lines))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        reader.join(timeout=10)
    output = "".join(lines)
    assert output.count("Watching for file changes") == 1, output
    assert output.count("Starting development server") == 1, output
    assert output.count(request_line) == 1, output

    send = (
        "from config.celery_app import app\n"
        "with app.connection_for_write() as connection:\n"
        "    connection.ensure_connection(max_retries=1)\n"
        "    print(connection.as_uri())"
    )
    result = manage("shell", "-c", send, CHRONICLE_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("filesystem://")
    assert "No hostname was supplied" not in result.stdout + result.stderr
