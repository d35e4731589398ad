import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import feedparser
import pytest

from chronicle.feeds import publishing
from tests.factories import published_development

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hub():
    """A WebSub hub on loopback that records the pings it gets."""
    pings = []

    class Hub(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            pings.append({key: value[0] for key, value in parse_qs(body).items()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", pings
    server.shutdown()


def test_with_a_hub_the_feeds_announce_it_and_changes_are_pinged(settings, hub, curator, editor):
    settings.FEEDS_WEBSUB_HUB, pings = hub
    published_development(curator, editor)
    atom = feedparser.parse((settings.FEEDS_ROOT / "all.atom").read_bytes())
    assert ("hub", settings.FEEDS_WEBSUB_HUB) in [(link.rel, link.href) for link in atom.feed.links]
    assert {"hub.mode": "publish", "hub.url": f"{settings.SITE_URL}/feeds/all.atom"} in pings

    pings.clear()
    publishing.regenerate("all")
    assert pings == []  # nothing changed, nothing to announce
