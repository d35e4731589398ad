"""Endpoint URLs: http(s) only, and by default never into loopback, private or link-local networks."""

import pytest

from chronicle.webhooks import delivery, endpoints, targets
from chronicle.webhooks.models import Delivery, Outcome


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://localhost/hooks",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://100.64.0.1/",
    ],
)
def test_internal_addresses_are_refused_unless_the_operator_allows_them(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(targets.UnsafeTarget, match="public addresses"):
        targets.check(url)
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    targets.check(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.216.34/", "http"),
        ("file:///etc/passwd", "http"),
        ("javascript:alert(1)", "http"),
        ("https:///nohost", "no host"),
        ("https://user:pw@93.184.216.34/", "password"),
        ("https://93.184.216.34:99999/", "valid URL"),
    ],
)
def test_only_http_urls_with_a_host_are_taken(settings, url, message):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    with pytest.raises(targets.UnsafeTarget, match=message):
        targets.check(url)


def test_a_public_address_is_taken(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    targets.check("https://93.184.216.34/hooks")
    targets.check("http://[2606:2800:220:1:248:1893:25c8:1946]:8443/")


def test_an_address_that_became_internal_is_not_called(settings, receiver, publish):
    hooks = receiver()
    endpoint, hooks.secret = endpoints.register(hooks.url)  # allowed while registering (a test receiver)
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    publish("one")
    delivery.deliver_due()
    assert hooks.requests == []
    attempt = Delivery.objects.get(endpoint=endpoint)
    assert attempt.outcome == Outcome.FAILED and "public addresses" in attempt.error
