"""Users in the editorial roles the data migration creates, and helpers for admin pages."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse

PASSWORD = "correct-horse-battery"
roles_migration = importlib.import_module("chronicle.developments.migrations.0002_roles")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # These tests sign many users in; the production hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(db):
    """The groups "Curators" and "Editors".

    A transactional test (live server, Celery worker) ends by emptying every table; Django
    then re-creates the permissions but not the data migrations' rows, so re-run ours.
    """
    if Group.objects.filter(name__in=roles_migration.ROLES).count() < len(roles_migration.ROLES):
        # The function reads only the connection from its schema editor argument.
        roles_migration.create_roles(django_apps, SimpleNamespace(connection=connection))
    return {group.name: group for group in Group.objects.filter(name__in=roles_migration.ROLES)}


def _member(django_user_model, username, group=None, **flags):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=True, **flags)
    if group is not None:
        user.groups.add(group)
    return django_user_model.objects.get(pk=user.pk)


# These replace the root fixtures of the same names: same users, but their rights come
# from the groups, as in production.
@pytest.fixture
def curator(roles, django_user_model):
    return _member(django_user_model, "cora-curator", roles["Curators"])


@pytest.fixture
def second_curator(roles, django_user_model):
    return _member(django_user_model, "cora-curator-2", roles["Curators"])


@pytest.fixture
def editor(roles, django_user_model):
    return _member(django_user_model, "eddie-editor", roles["Editors"])


@pytest.fixture
def second_editor(roles, django_user_model):
    return _member(django_user_model, "erin-editor", roles["Editors"])


@pytest.fixture
def staff(roles, django_user_model):
    """A staff member in neither group."""
    return _member(django_user_model, "sam-staff")


@pytest.fixture
def superuser(roles, django_user_model):
    return _member(django_user_model, "root", is_superuser=True)


def change_url(development_id):
    return reverse("admin:developments_developmentrecord_change", args=[development_id])


def step_url(development_id, step):
    return reverse("admin:developments_developmentrecord_workflow", args=[development_id, step])


def history_url(development_id):
    return reverse("admin:developments_developmentrecord_history", args=[development_id])


ADD_URL = "/admin/developments/developmentrecord/add/"
LIST_URL = "/admin/developments/developmentrecord/"


def form_data(content, *, version=None, slug=None, **extra):
    """POST data of the development form for `content` (a content dict)."""
    data = {key: content.get(key, "") for key in ("title", "summary", "kind", "stage", "date", "date_basis")}
    data["related"] = " ".join(content.get("related", []))
    data["countries"] = list(content.get("countries", []))
    data["topics"] = list(content.get("topics", []))
    if version is not None:
        data["version"] = str(version)
    if slug is not None:
        data["slug"] = slug
    for part in ("sources", "actors", "amounts", "places"):
        rows = content.get(part, [])
        data[f"{part}-TOTAL_FORMS"] = str(len(rows))
        data[f"{part}-INITIAL_FORMS"] = str(len(rows))
        for index, row in enumerate(rows):
            for key, value in row.items():
                data[f"{part}-{index}-{key}"] = "" if value is None else str(value)
    data.update(extra)
    return data
