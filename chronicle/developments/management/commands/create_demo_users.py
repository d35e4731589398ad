"""Create a demo curator and a demo editor, so the editorial workflow can be tried at once."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = (("demo-curator", "Curators"), ("demo-editor", "Editors"))
DEMO_PASSWORD = "chronicle-demo"  # noqa: S105 (a well-known demo password, refused outside DEBUG)


class Command(BaseCommand):
    help = "Create (or reset) the demo curator and demo editor and print their logins. DEBUG only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo users have a well-known password; create them only with DEBUG on.")
        User = get_user_model()
        for username, group_name in DEMO_USERS:
            try:
                group = Group.objects.get(name=group_name)
            except Group.DoesNotExist:
                raise CommandError(f"The group “{group_name}” is missing; run `python manage.py migrate`.") from None
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.add(group)
            self.stdout.write(f"{group_name[:-1]:<8} {username} / {DEMO_PASSWORD}")
        self.stdout.write(self.style.SUCCESS("Sign in at /admin/ with one of these logins."))
