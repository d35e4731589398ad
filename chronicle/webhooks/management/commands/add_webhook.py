from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chronicle.webhooks import endpoints


class Command(BaseCommand):
    help = "Register a webhook endpoint that receives every public event from now on (Standard Webhooks)."

    def add_arguments(self, parser):
        parser.add_argument("url", help="The http(s) URL to POST events to.")
        parser.add_argument("--secret", required=True, help="The signing secret, whsec_ followed by base64.")
        parser.add_argument("--country", action="append", default=[], help="Only events of this country (repeatable).")
        parser.add_argument("--topic", action="append", default=[], help="Only events on this topic (repeatable).")
        parser.add_argument("--owner", help="Username told by email if the endpoint gets disabled.")
        parser.add_argument("--description", default="", help="What the endpoint is for.")

    def handle(self, *args, url, secret, country, topic, owner, description, **options):
        user = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"--owner {owner!r}: there is no user with this username.")
        try:
            endpoint, _ = endpoints.register(
                url, owner=user, secret=secret, countries=country, topics=topic, description=description
            )
        except endpoints.InvalidEndpoint as invalid:
            raise CommandError(f"The endpoint was not added. {invalid}") from None
        filters = ", ".join([*endpoint.countries, *endpoint.topics]) or "every public event"
        self.stdout.write(
            f"Added webhook endpoint {endpoint.pk} for {endpoint.url} ({filters}), from position {endpoint.position}."
        )
