"""Redis is also the shared cache (rate limits, admin sign-in counts, cached API answers):
with it down the site keeps answering, and the counts are shared again once it is back."""

import pytest
from django.core.cache import cache

from tests.factories import published_development
from tests.hardening.private_redis import private_redis

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def test_with_the_cache_down_the_api_and_admin_sign_in_answer_and_counting_resumes_after(
    client, settings, curator, editor
):
    published_development(curator, editor)
    with private_redis() as redis_server:
        settings.CACHES = redis_server.caches()
        cache.add("counter", 1)
        assert cache.incr("counter") == 2, "the cache is shared through Redis"

        redis_server.stop()
        assert cache.get("counter") is None
        for _ in range(2):
            response = client.get("/api/v1/developments/")
            assert response.status_code == 200 and len(response.json()["results"]) == 1
        assert client.get("/").status_code == 200
        credentials = {"username": "eddie-editor", "password": "correct-horse-battery", "next": "/admin/"}
        signed_in = client.post("/admin/login/", credentials)
        assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200

        redis_server.start()
        cache.add("counter", 1)
        assert cache.incr("counter") == 2, "counting resumes once Redis is back"
