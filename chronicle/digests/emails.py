"""One function per kind of email; each renders the subject / text / HTML templates
`emails/<name>.subject.txt`, `.txt` and `.html`."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, SafeMIMEMultipart
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
HTML_LINK_MARKS = {purpose: mark.replace("_url", "_url_html") for purpose, mark in LINK_MARKS.items()}


def _digest_context(subscriber: Subscriber, content, **links: str) -> dict:
    """Everything the digest templates see: what the digest shows, to whom in general, and links."""
    return {
        "frequency": subscriber.frequency,
        "scoped": bool(subscriber.topics or subscriber.countries),
        "content": content,
        **links,
    }


class DigestMails:
    """Digest emails that render and encode each distinct digest once: subscribers whose
    digests show the same revisions, at the same frequency and scope, differ only in their
    own links."""

    def __init__(self) -> None:
        self._shared: dict[tuple, SharedDigest] = {}

    def message(self, subscriber: Subscriber, content, message_id: str) -> EmailMultiAlternatives:
        context = _digest_context(subscriber, content)
        key = (content.content_hash, context["frequency"], context["scoped"])
        if key not in self._shared:
            marks = {f"{purpose}_url": mark for purpose, mark in LINK_MARKS.items()}
            self._shared[key] = SharedDigest(*render("digest", {**context, **marks}))
        links = {purpose: tokens.url(purpose, subscriber) for purpose in LINK_MARKS}
        return self._shared[key].to(subscriber.email, links, _list_headers(subscriber, links, message_id))


class SharedDigest:
    """One digest's subject, text and HTML with marks for the links, and its MIME body
    encoded once; each recipient's copy only has their links put in."""

    def __init__(self, subject: str, text: str, html: str) -> None:
        for purpose, mark in LINK_MARKS.items():
            html = html.replace(mark, HTML_LINK_MARKS[purpose])
        self.subject, self.text, self.html = subject, text, html
        self.linked_lines = [line for line in f"{text}\n{html}".splitlines() if "\0" in line]
        built = compose("recipient@invalid", subject, text, html).message()
        _headers, body = built.as_bytes().split(b"\n\n", 1)
        self.boundary = built.get_boundary()
        # A body with long lines is quoted-printable, where a link cannot simply be put in.
        plain = all(part["Content-Transfer-Encoding"] in ("7bit", "8bit") for part in built.get_payload())
        self.body = body if plain else None

    def to(self, address: str, links: dict[str, str], headers: dict[str, str]) -> EmailMultiAlternatives:
        replacements = {LINK_MARKS[purpose]: url for purpose, url in links.items()}
        replacements |= {HTML_LINK_MARKS[purpose]: conditional_escape(url) for purpose, url in links.items()}

        def linked(text: str) -> str:
            for mark, url in replacements.items():
                text = text.replace(mark, url)
            return text

        email = EncodedDigest(self.subject, linked(self.text), to=[address], headers=headers)
        email.attach_alternative(linked(self.html), "text/html")
        # The shared body takes the links as they are when that is what Django would write.
        as_written = self.body is not None and all(url.isascii() for url in links.values())
        if as_written and not any(_too_long(linked(line)) for line in self.linked_lines):
            body = self.body
            for mark, url in replacements.items():
                body = body.replace(mark.encode(), url.encode())
            email.encoded_body = (self.boundary, body)
        return email


def _too_long(line: str) -> bool:
    """Whether Django would quote-printable the part for this line (RFC 5322's limit)."""
    return len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT


class EncodedDigest(EmailMultiAlternatives):
    """A digest whose MIME body was encoded once and shared: the same bytes Django would
    write for its text and HTML, without encoding them again for every recipient."""

    encoded_body: tuple[str, bytes] | None = None

    def _create_alternatives(self, msg):
        if self.encoded_body is None:
            return super()._create_alternatives(msg)
        return EncodedAlternatives(*self.encoded_body, encoding=self.encoding or settings.DEFAULT_CHARSET)


# Stands for the encoded parts while the generator writes the headers (the payload comes last).
BODY_MARK = "\0body\0"


class EncodedAlternatives(SafeMIMEMultipart):
    """multipart/alternative whose parts are already encoded (with "\n" line breaks)."""

    def __init__(self, boundary: str, encoded: bytes, *, encoding: str) -> None:
        super().__init__("alternative", boundary=boundary, encoding=encoding)
        self.encoded = encoded
        self.set_payload(BODY_MARK)

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        headers, _mark, after = super().as_bytes(unixfrom, linesep).rpartition(BODY_MARK.encode())
        return headers + self.encoded.replace(b"\n", linesep.encode()) + after


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
