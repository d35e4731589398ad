"""TimelineJS itself (its npm package, installed by bin/setup) reads /api/v1/timeline.json.

A newsroom's page, with TimelineJS's files from node_modules, is served from a second
loopback server; the JSON comes from the live test server, another origin, as it would
come from Chronicle to a newsroom's site. Requests for anything else are refused, so
nothing leaves the machine.
"""

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.factories import published_development
from tests.services import ROOT

pytestmark = pytest.mark.browser

TIMELINEJS = ROOT / "node_modules" / "@knight-lab" / "timelinejs" / "dist"
EMBED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A newsroom's story</title>
<link rel="stylesheet" href="/timelinejs/css/timeline.css">
<script src="/timelinejs/js/timeline.js"></script></head>
<body><div id="timeline-embed" style="width: 100%; height: 600px"></div>
<script>
  window.timelineErrors = [];
  // Translations from beside the script, as a site hosting its own copy does; no web
  // font (the default one comes from Google Fonts, and the test stays on this machine).
  const options = {script_path: new URL("/timelinejs/js/", location.href).href, font: null};
  window.timeline = new TL.Timeline("timeline-embed", SOURCE, options);
  window.timeline.on("ready", () => { window.timelineReady = true; });
</script></body></html>"""

DATES = {
    "dated-year": "2005",
    "dated-month": "2010-03",
    "dated-day": "2019-03-14",
    "dated-approximate": "2021~",
    "dated-uncertain": "2020-06?",
    "dated-interval": "2021-06-01/2021-06-04",
    "dated-open-start": "../2015-06-18",
    "dated-open-end": "2016-09/..",
    "dated-decade": "201X",
}


@pytest.fixture
def chronicle(curator, editor):
    for slug, text in DATES.items():
        published_development(curator, editor, slug=slug, title=f"Dated {text}", date=text)


@pytest.fixture
def newsroom(live_server, tmp_path):
    """A newsroom's site on its own loopback port: a story page embedding TimelineJS."""
    assert TIMELINEJS.exists(), "run bin/setup: it installs TimelineJS from npm"
    (tmp_path / "timelinejs").symlink_to(TIMELINEJS)
    source = json.dumps(f"{live_server.url}/api/v1/timeline.json")
    (tmp_path / "story.html").write_text(EMBED.replace("SOURCE", source))

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_timelinejs_renders_a_slide_for_every_development(browser, live_server, newsroom, chronicle, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    outside = []

    def only_loopback(route):
        if route.request.url.startswith((newsroom, live_server.url)):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(f"{newsroom}/story.html")
        try:
            page.wait_for_function("window.timelineReady === true", timeout=20000)
        except PlaywrightTimeout:
            message = page.inner_text("#timeline-embed")
            raise AssertionError(f"TimelineJS did not get ready: {message} {errors} {outside}") from None

        assert page.evaluate("timeline.config.getErrors()") == []
        assert errors == [], (errors, outside)  # no script error, no failed request
        # The title slide, then one slide and one marker on the time axis per development.
        assert page.locator(".tl-slide").count() == len(DATES) + 1
        assert page.locator(".tl-timemarker").count() == len(DATES)
        headlines = page.locator(".tl-slide .tl-headline").all_text_contents()
        assert {f"Dated {text}" for text in DATES.values()} <= set(headlines)
        dates = page.locator(".tl-slide .tl-headline-date").all_text_contents()
        assert "before 18 June 2015" in dates and "2021 (approximate)" in dates
        screenshot(page, "timelinejs")

        page.locator(".tl-slidenav-next").first.click()  # from the title to the earliest development
        page.wait_for_function("timeline.current_id === 'dated-year'")
        page.wait_for_timeout(1000)  # the slide's animation
        screenshot(page, "timelinejs-first-slide")
        assert outside == []
    finally:
        context.close()
