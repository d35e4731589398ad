"""One function per kind of email; each renders the subject / text / HTML templates
`emails/<name>.subject.txt`, `.txt` and `.html`."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import conditional_escape

from . import tokens
from .models import Subscriber


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def render(name: str, context: dict) -> tuple[str, str, str]:
    """The subject (on one line), text and HTML of email `name`."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    return subject, render_to_string(f"emails/{name}.txt", context), render_to_string(f"emails/{name}.html", context)


def compose(to: str, subject: str, text: str, html: str, headers: dict[str, str] | None = None):
    email = EmailMultiAlternatives(subject, text, to=[to], headers=headers)
    email.attach_alternative(html, "text/html")
    return email


def message(name: str, to: str, context: dict, *, headers: dict[str, str] | None = None) -> EmailMultiAlternatives:
    return compose(to, *render(name, context), headers=headers)


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


# Where a recipient's own links go in a digest rendered for everyone who gets the same one.
# No text in a digest holds a NUL: the domain refuses control characters.
LINK_MARKS = {tokens.MANAGE: "\0manage_url\0", tokens.UNSUBSCRIBE: "\0unsubscribe_url\0"}


def _digest_context(subscriber: Subscriber, content, **links: str) -> dict:
    """Everything the digest templates see: what the digest shows, to whom in general, and links."""
    return {
        "frequency": subscriber.frequency,
        "scoped": bool(subscriber.topics or subscriber.countries),
        "content": content,
        **links,
    }


class DigestMails:
    """Digest emails that render each distinct digest once: subscribers whose digests show
    the same revisions, at the same frequency and scope, differ only in their own links."""

    def __init__(self) -> None:
        self._rendered: dict[tuple, tuple[str, str, str]] = {}

    def message(self, subscriber: Subscriber, content, message_id: str) -> EmailMultiAlternatives:
        context = _digest_context(subscriber, content, manage_url="", unsubscribe_url="")
        key = (content.content_hash, context["frequency"], context["scoped"])
        if key not in self._rendered:
            marks = {f"{purpose}_url": mark for purpose, mark in LINK_MARKS.items()}
            self._rendered[key] = render("digest", {**context, **marks})
        subject, text, html = self._rendered[key]
        links = {purpose: tokens.url(purpose, subscriber) for purpose in LINK_MARKS}
        for purpose, mark in LINK_MARKS.items():
            text = text.replace(mark, links[purpose])
            html = html.replace(mark, conditional_escape(links[purpose]))
        return compose(subscriber.email, subject, text, html, headers=_list_headers(subscriber, links, message_id))


def _list_headers(subscriber: Subscriber, links: dict[str, str], message_id: str) -> dict[str, str]:
    return {
        "Message-ID": message_id,
        # RFC 8058: a mail client may POST to this URL to unsubscribe in one click.
        "List-Unsubscribe": f"<{links[tokens.UNSUBSCRIBE]}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"Chronicle {subscriber.frequency} digest <{subscriber.frequency}.digest.{site_domain()}>",
    }


def digest(subscriber: Subscriber, content, *, message_id: str | None = None, to: str | None = None):
    """The digest email; without `message_id` it is a preview for `to`, with inert links."""
    if message_id is not None:
        return DigestMails().message(subscriber, content, message_id)
    inert = settings.SITE_URL + "/subscribe/"
    context = _digest_context(subscriber, content, manage_url=inert, unsubscribe_url=inert)
    return message("digest", to or subscriber.email, {**context, "preview_for": subscriber.email})
