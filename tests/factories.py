"""Test data builders."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

from chronicle.developments import commands

PASSWORD = "correct-horse-battery"
roles_migration = importlib.import_module("chronicle.developments.migrations.0002_roles")


def editorial_roles() -> dict[str, Any]:
    """The groups "Curators" and "Editors", by name.

    A transactional test (live server, Celery worker) ends by emptying every table; Django
    then re-creates the permissions but not the data migrations' rows, so re-run ours.
    """
    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.db import connection

    if Group.objects.filter(name__in=roles_migration.ROLES).count() < len(roles_migration.ROLES):
        # The function reads only the connection from its schema editor argument.
        roles_migration.create_roles(apps, SimpleNamespace(connection=connection))
    return {group.name: group for group in Group.objects.filter(name__in=roles_migration.ROLES)}


def member(django_user_model, username: str, group=None, **flags):
    """A staff user (in `group`, if given) with the test password, its permission cache fresh."""
    user = django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=True, **flags)
    if group is not None:
        user.groups.add(group)
    return django_user_model.objects.get(pk=user.pk)


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
