"""Create a demo curator, a demo editor and a demo partner with an API key, so the editorial
workflow and the partner API can be tried at once."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from chronicle.api.models import KEY_SCHEME, ApiKey, digest

DEMO_USERS = (("demo-curator", "Curators"), ("demo-editor", "Editors"))
DEMO_PASSWORD = "chronicle-demo"  # noqa: S105 (a well-known demo password, refused outside DEBUG)
DEMO_PARTNER = "demo-partner"
DEMO_KEY_PREFIX = "demo0000"
DEMO_KEY_SECRET = "chronicle-demo-partner-key"  # noqa: S105 (well-known, like the password)
DEMO_KEY = f"{KEY_SCHEME}_{DEMO_KEY_PREFIX}_{DEMO_KEY_SECRET}"


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo curator, demo editor and demo partner, and print their logins "
        "and the partner's API key. DEBUG only."
    )

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

        partner, _ = User.objects.get_or_create(username=DEMO_PARTNER)
        partner.is_staff = False
        partner.is_active = True
        partner.set_unusable_password()  # a partner reads the API with the key, never signs in
        partner.save()
        ApiKey.objects.update_or_create(
            prefix=DEMO_KEY_PREFIX,
            defaults={
                "name": "Demo partner",
                "owner": partner,
                "hashed_key": digest(DEMO_KEY_SECRET),
                "expires_at": None,
                "revoked_at": None,
            },
        )
        self.stdout.write(f"Partner  {DEMO_PARTNER}: API key {DEMO_KEY}")
        self.stdout.write(
            f'         e.g. curl -H "Authorization: Api-Key {DEMO_KEY}" {settings.SITE_URL}/api/v1/developments/'
        )
