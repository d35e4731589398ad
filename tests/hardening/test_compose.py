"""The docker-compose deployment as shipped: no client picks its own address or scheme, and
nothing meant for the operator listens beyond the machine."""

import re

import yaml

from tests.services import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
NGINX = (ROOT / "deploy" / "nginx.conf").read_text()


def _block(text: str, opening: str) -> str:
    start = text.index(opening)
    depth = 0
    for index in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    raise AssertionError(f"unclosed {opening}")


def test_the_app_trusts_exactly_the_one_proxy_in_front_of_it():
    environment = COMPOSE["x-app"]["environment"]
    assert environment["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-1}"
    assert environment["DEBUG"] == "false"


def test_nginx_replaces_the_forwarded_headers_a_client_sends():
    proxied = _block(NGINX, "location / {")
    assert "proxy_set_header X-Forwarded-For $forwarded_for;" in proxied
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in proxied
    # Believed only from a proxy named in the geo block, and none is named as shipped.
    assert re.search(r"geo \$from_trusted_proxy \{\s*default 0;\s*\}", NGINX)
    assert re.search(r"map \$from_trusted_proxy \$forwarded_for \{\s*default\s+\$remote_addr;", NGINX)
    assert re.search(r"\$forwarded_proto \{\s*default\s+\$scheme;", NGINX)
    assert "$http_x_forwarded_proto" not in proxied and "$proxy_add_x_forwarded_for;" not in proxied


def test_feeds_served_by_nginx_are_not_sniffed():
    assert "add_header X-Content-Type-Options nosniff;" in _block(NGINX, "location /feeds/ {")


def test_mailpit_listens_on_this_machine_only():
    assert COMPOSE["services"]["mailpit"]["ports"] == ["127.0.0.1:${MAILPIT_PORT:-8025}:8025"]
