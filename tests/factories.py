"""Test data builders."""

from __future__ import annotations

from typing import Any

from chronicle.developments import commands


def content_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Beltelecom tests 5G with Huawei",
        "summary": "Beltelecom ran a 5G test network in Minsk.",
        "kind": "network-test",
        "stage": "completed",
        "date": "2021-06",
        "countries": ["BY", "CN"],
        "topics": ["5g"],
        "actors": [{"name": "Beltelecom", "role": "operator"}, {"name": "Huawei", "role": "supplier"}],
        "amounts": [{"value": "1.235", "unit": "Gbit/s", "measures": "peak download speed"}],
        "places": [{"name": "Minsk", "country": "BY", "lat": 53.9, "lon": 27.5667}],
        "sources": [{"title": "Beltelecom report", "publisher": "Beltelecom", "url": "https://example.org/report"}],
    }
    data.update(overrides)
    return data


def published_development(curator, editor, *, slug: str = "beltelecom-5g-2021", **overrides: Any):
    """Draft, submit and publish a development the way the workflow requires; return its id."""
    outcome = commands.draft_development(content_data(**overrides), actor=curator, slug=slug)
    commands.submit_development(outcome.development_id, actor=curator)
    commands.publish_development(outcome.development_id, actor=editor)
    return outcome.development_id
