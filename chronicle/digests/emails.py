"""One function per kind of email; each renders the subject / text / HTML templates
`emails/<name>.subject.txt`, `.txt` and `.html`."""

from __future__ import annotations

import re
from collections import OrderedDict
from email.generator import NLCRE, BytesGenerator
from email.message import Message
from email.policy import compat32
from email.utils import formatdate
from io import BytesIO
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, SafeMIMEMultipart, forbid_multi_line_headers
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
    own links and headers.

    The last `keep` distinct digests are kept: a pass reaches subscribers in the order of
    their scopes, so the same digest comes round again soon or not at all.
    """

    def __init__(self, keep: int = 100) -> None:
        self.keep = keep
        self._shared: OrderedDict[tuple, SharedDigest] = OrderedDict()

    def message(self, subscriber: Subscriber, content, message_id: str) -> EmailMultiAlternatives:
        context = _digest_context(subscriber, content)
        key = (content.content_hash, context["frequency"], context["scoped"])
        shared = self._shared.get(key)
        if shared is None:
            marks = {f"{purpose}_url": mark for purpose, mark in LINK_MARKS.items()}
            shared = self._shared[key] = SharedDigest(*render("digest", {**context, **marks}))
            if len(self._shared) > self.keep:
                self._shared.popitem(last=False)
        else:
            self._shared.move_to_end(key)
        links = {purpose: tokens.url(purpose, subscriber) for purpose in LINK_MARKS}
        return shared.to(subscriber.email, links, _list_headers(subscriber, links, message_id))


# The marks in a digest's text and HTML, and where the encoded message has them.
MARKS = (*LINK_MARKS.values(), *HTML_LINK_MARKS.values())
MARKS_PATTERN = re.compile("(" + "|".join(map(re.escape, MARKS)) + ")")
ENCODED_MARKS_PATTERN = re.compile(MARKS_PATTERN.pattern.encode())


class SharedDigest:
    """One digest's subject, text and HTML with marks for the links, and its message as
    Django writes it, encoded once; each recipient's copy only has their links and their
    own headers put in."""

    def __init__(self, subject: str, text: str, html: str) -> None:
        for purpose, mark in LINK_MARKS.items():
            html = html.replace(mark, HTML_LINK_MARKS[purpose])
        self.subject = subject
        self.text, self.html = MARKS_PATTERN.split(text), MARKS_PATTERN.split(html)
        self.linked_lines = [line for line in f"{text}\n{html}".splitlines() if "\0" in line]
        self.written: WrittenDigest | None = None

    def to(self, address: str, links: dict[str, str], headers: dict[str, str]) -> EmailMultiAlternatives:
        replacements = {LINK_MARKS[purpose]: url for purpose, url in links.items()}
        replacements |= {HTML_LINK_MARKS[purpose]: conditional_escape(url) for purpose, url in links.items()}
        email = PreparedDigest(self.subject, _put_in(self.text, replacements), to=[address], headers=headers)
        email.attach_alternative(_put_in(self.html, replacements), "text/html")
        # The shared message takes the links as they are when that is what Django would write.
        if all(url.isascii() for url in links.values()) and not any(
            _too_long(_put_in(MARKS_PATTERN.split(line), replacements)) for line in self.linked_lines
        ):
            if self.written is None:
                template = compose(address, self.subject, "".join(self.text), "".join(self.html), headers)
                self.written = WrittenDigest(template.message())
            if self.written.body is not None:
                email.written = (self.written, {mark.encode(): url.encode() for mark, url in replacements.items()})
        return email


def _put_in(pieces: list, replacements: dict):
    """Text or bytes split at the marks (every other piece a mark), with each mark replaced."""
    pieces = pieces.copy()
    pieces[1::2] = [replacements[mark] for mark in pieces[1::2]]
    return "".join(pieces) if isinstance(pieces[0], str) else b"".join(pieces)


def _too_long(line: str) -> bool:
    """Whether Django would quote-printable the part for this line (RFC 5322's limit)."""
    return len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT


# SMTP's line breaks: what Django's SMTP backend asks a message's bytes with.
SMTP_POLICY = compat32.clone(linesep="\r\n")


class WrittenDigest:
    """A digest's message as Django writes it, written once for all its recipients: the
    headers they share, folded, and the encoded body split at the marks for the links
    (no body when its parts are quoted-printable, where a link cannot simply be put in)."""

    def __init__(self, message: SafeMIMEMultipart) -> None:
        body = _as_bytes(message, "\r\n").split(b"\r\n\r\n", 1)[1]
        plain = all(part["Content-Transfer-Encoding"] in ("7bit", "8bit") for part in message.get_payload())
        self.body = ENCODED_MARKS_PATTERN.split(body) if plain else None
        # As written: the multipart's boundary is chosen then.
        self.headers = list(message.raw_items())
        self.folded = {(name, value): SMTP_POLICY.fold_binary(name, value) for name, value in self.headers}


def _as_bytes(message, linesep: str) -> bytes:
    """message.as_bytes(linesep=linesep), with a part's lines written at once."""
    data = BytesIO()
    WholeLinesGenerator(data, mangle_from_=False).flatten(message, linesep=linesep)
    return data.getvalue()


class WholeLinesGenerator(BytesGenerator):
    """The generator Django's messages write themselves with, writing a part's text in one
    go rather than line by line: the same bytes, in a fraction of the time for a digest."""

    def _write_lines(self, lines: str) -> None:
        if lines:
            self.write(NLCRE.sub(self._NL, lines))


class PreparedDigest(EmailMultiAlternatives):
    """A digest whose message was written once for everyone who gets it: message() puts
    this recipient's headers and links into it, and gives the bytes Django would write."""

    written: tuple[WrittenDigest, dict[bytes, bytes]] | None = None

    def message(self):
        if self.written is None:
            return super().message()
        written, links = self.written
        encoding = self.encoding or settings.DEFAULT_CHARSET
        # The headers in the order EmailMessage.message() writes them, with this recipient's
        # own values as it would set them (To, Date and the extra headers).
        own = {"To": ", ".join(self.to), "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}
        own |= self.extra_headers
        headers = [
            forbid_multi_line_headers(name, own[name], encoding) if name in own else (name, value)
            for name, value in written.headers
        ]
        return PreparedMessage(headers, written, links, standard=super().message)


class PreparedMessage(Message):
    """A recipient's digest message: its headers, and its bytes put together from those
    written once for the digest and this recipient's own headers and links."""

    def __init__(self, headers: list[tuple[str, str]], written: WrittenDigest, links: dict[bytes, bytes], *, standard):
        super().__init__()
        for name, value in headers:
            self[name] = value
        self.written, self.links, self.standard = written, links, standard

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        if unixfrom:
            return self.standard().as_bytes(unixfrom, linesep)
        head = b"".join(
            self.written.folded.get(header) or SMTP_POLICY.fold_binary(*header) for header in self.raw_items()
        )
        data = head + b"\r\n" + _put_in(self.written.body, self.links)
        return data if linesep == "\r\n" else data.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.standard().as_string(unixfrom, linesep)


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
