import pytest
from django.contrib.auth.models import Permission

from tests.factories import content_data

PERMISSIONS = {
    "curator": ["draft_development"],
    "editor": ["draft_development", "review_development", "publish_development", "retract_development"],
}


def _user(django_user_model, username: str, role: str):
    user = django_user_model.objects.create_user(username=username, password="correct-horse-battery", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=PERMISSIONS[role]))
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def curator(db, django_user_model):
    return _user(django_user_model, "cora-curator", "curator")


@pytest.fixture
def editor(db, django_user_model):
    return _user(django_user_model, "eddie-editor", "editor")


@pytest.fixture
def second_editor(db, django_user_model):
    return _user(django_user_model, "erin-editor", "editor")


@pytest.fixture
def content():
    return content_data()
