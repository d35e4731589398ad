"""Fixtures every test may use: users in the editorial roles, a fast password hasher, eager
Celery, real services (a Celery worker on Redis, an SMTP server, chromium)."""

import pytest

from chronicle.developments import commands
from tests.factories import PASSWORD, content_data, editorial_roles, member

# The fixtures through which a test reaches the database of its pass.
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, leave out the tests that never reach the pass's database (the domain,
    settings read in a fresh process, …): the SQLite pass ran them, and they would run the
    same again. Tests marked postgres reach PostgreSQL their own way and stay."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    kept, repeated = [], []
    for item in items:
        reaches_database = DATABASE_FIXTURES & set(item.fixturenames) or item.get_closest_marker("django_db")
        (kept if reaches_database or item.get_closest_marker("postgres") else repeated).append(item)
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = kept


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Tests create and sign in many users; the production hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(db):
    """The groups "Curators" and "Editors" of the data migration, by name."""
    return editorial_roles()


# Users get their rights from the editorial groups, as in production.
@pytest.fixture
def curator(roles, django_user_model):
    return member(django_user_model, "cora-curator", roles["Curators"])


@pytest.fixture
def second_curator(roles, django_user_model):
    return member(django_user_model, "cora-curator-2", roles["Curators"])


@pytest.fixture
def editor(roles, django_user_model):
    return member(django_user_model, "eddie-editor", roles["Editors"])


@pytest.fixture
def second_editor(roles, django_user_model):
    return member(django_user_model, "erin-editor", roles["Editors"])


@pytest.fixture
def staff(roles, django_user_model):
    """A staff member in neither group."""
    return member(django_user_model, "sam-staff")


@pytest.fixture
def superuser(roles, django_user_model):
    return member(django_user_model, "root", is_superuser=True)


@pytest.fixture
def partner(db, django_user_model):
    """An API client's account: not staff; tests issue the API keys it owns."""
    return django_user_model.objects.create_user("acme", email="hooks@acme.example", password=PASSWORD)


@pytest.fixture
def publisher(db):
    """A system actor that drafts and publishes in one go, as an import does."""
    return commands.system_user("test-publisher")


@pytest.fixture
def publish(publisher):
    """publish("a-slug", title=…) records a development and publishes it; gives its id."""

    def publish(slug: str, **overrides):
        outcome = commands.draft_development(content_data(**overrides), actor=publisher, slug=slug)
        commands.submit_development(outcome.development_id, actor=publisher)
        commands.publish_development(outcome.development_id, actor=publisher)
        return outcome.development_id

    return publish


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in the test process (unit tests; integration tests use `celery_worker`)."""
    from config.celery_app import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counters and cached API answers live in the cache; each test starts with none
    (test databases reuse event positions, so an answer cached by one test would be stale)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def content():
    return content_data()


@pytest.fixture(autouse=True, scope="session")
def _broker_from_settings():
    """Celery prefers a CELERY_BROKER_URL environment variable over app.conf.broker_url;
    tests choose their broker through app.conf, so the variable must not be set."""
    import os

    os.environ.pop("CELERY_BROKER_URL", None)


@pytest.fixture
def celery_worker(transactional_db, settings, tmp_path):
    """Start with `celery_worker.start()`; a real worker on Redis sharing the test database.

    The test process sends to the same broker, not eagerly. Pass extra environment with
    `celery_worker.env.update(...)` before starting.
    """
    from config.celery_app import app
    from tests import services

    services.flush_test_broker()
    worker = services.CeleryWorker(tmp_path / "worker.log", services.worker_environment())
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = services.TEST_BROKER_URL, False
    services.reset_connections(app)
    yield worker
    worker.stop()
    app.conf.broker_url, app.conf.task_always_eager = saved
    services.reset_connections(app)


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port: yields (RecordingHandler, port)."""
    import socket

    from aiosmtpd.controller import Controller

    from tests import services

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = services.RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    handler.release.set()
    controller.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless chromium, driven by Playwright (never a downloaded browser)."""
    import os

    from playwright.sync_api import sync_playwright

    from tests import services

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=services.CHROMIUM, args=services.CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    from tests.browsing import new_page

    page = new_page(browser, live_server.url)
    yield page
    page.context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step-name") saves a PNG under artifacts/screenshots/<test>/."""
    from tests import services

    folder = services.ARTIFACTS / "screenshots" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page, name: str):
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
