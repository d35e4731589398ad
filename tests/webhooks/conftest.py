import pytest

from chronicle.api.models import ApiKey
from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """Receivers in these tests listen on loopback, which production refuses by default."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_CONCURRENCY = 1
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.05
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2


@pytest.fixture
def receiver():
    receivers = []

    def make(**options) -> Receiver:
        receivers.append(Receiver(**options).start())
        return receivers[-1]

    yield make
    for started in receivers:
        started.stop()


@pytest.fixture
def partner_headers(partner):
    """Request headers that sign in to the API as `partner`, with an API key it owns."""
    _, key = ApiKey.issue(name="Acme", owner=partner)
    return {"authorization": f"Api-Key {key}"}
