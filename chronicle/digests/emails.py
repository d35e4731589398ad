"""One function per kind of email; each renders the subject / text / HTML templates
`emails/<name>.subject.txt`, `.txt` and `.html`."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from . import tokens
from .models import Subscriber


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def message(name: str, to: str, context: dict, *, headers: dict[str, str] | None = None) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    email = EmailMultiAlternatives(subject, text, to=[to], headers=headers)
    email.attach_alternative(html, "text/html")
    return email


def confirmation(subscriber: Subscriber) -> EmailMultiAlternatives:
    return message(
        "confirm",
        subscriber.email,
        {
            "subscriber": subscriber,
            "confirm_url": tokens.url(tokens.CONFIRM, subscriber),
            "valid_days": settings.DIGEST_CONFIRM_LINK_MAX_AGE // 86400,
        },
    )


def already_subscribed(subscriber: Subscriber) -> EmailMultiAlternatives:
    return message("already-subscribed", subscriber.email, {"manage_url": tokens.url(tokens.MANAGE, subscriber)})


def digest(subscriber: Subscriber, content, *, message_id: str | None = None, to: str | None = None):
    """The digest email; without `message_id` it is a preview for `to`, with inert links."""
    if message_id is None:
        manage_url = unsubscribe_url = settings.SITE_URL + "/subscribe/"
        headers = {}
    else:
        manage_url = tokens.url(tokens.MANAGE, subscriber)
        unsubscribe_url = tokens.url(tokens.UNSUBSCRIBE, subscriber)
        headers = {
            "Message-ID": message_id,
            # RFC 8058: a mail client may POST to this URL to unsubscribe in one click.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"Chronicle {subscriber.frequency} digest <{subscriber.frequency}.digest.{site_domain()}>",
        }
    return message(
        "digest",
        to or subscriber.email,
        {
            "subscriber": subscriber,
            "content": content,
            "preview": message_id is None,
            "manage_url": manage_url,
            "unsubscribe_url": unsubscribe_url,
        },
        headers=headers,
    )
