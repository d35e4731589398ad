"""Handing digests to the mail server in two steps, so that the next message is on its way
while the one before is being recorded.

Over Django's SMTP backend, `prepare` starts writing and sending a message on a helper
thread (connecting first if need be): the envelope, the DATA command and the message
itself, everything but the final "." that ends it. `hand_over` waits for that, then sends the
"."; the server's reply to it is its acceptance (what smtplib's sendmail does in one go,
the same bytes on the wire). Meanwhile the worker records the message the server accepted
before, and it hands the next one over only once that is recorded: no message is accepted
before the one before it is recorded. If anything goes wrong in between, `abort` closes
the connection without the ".", and the server drops the message.

Other backends (files, the console, tests' outboxes) write and send the whole message in
`hand_over`.
"""

from __future__ import annotations

import re
import smtplib
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

END_OF_DATA = b".\r\n"


def outbox_for(connection) -> DirectOutbox | SMTPOutbox:
    return SMTPOutbox(connection) if isinstance(connection, SMTPBackend) else DirectOutbox(connection)


class DirectOutbox:
    """Writes and sends each message whole, through the backend, in `hand_over`."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.prepared: Callable[[], EmailMessage] | None = None

    def prepare(self, write: Callable[[], EmailMessage]) -> None:
        self.prepared = write

    def hand_over(self) -> None:
        write, self.prepared = self.prepared, None
        message = write()
        self.connection.open()
        message.connection = self.connection
        message.send()

    def abort(self) -> None:
        self.prepared = None

    def close(self) -> None:
        self.abort()


class SMTPOutbox:
    """Sends each message over the SMTP backend's connection in two steps (see above)."""

    def __init__(self, connection: SMTPBackend) -> None:
        self.connection = connection
        self.helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest-smtp")
        self.preparing: Future | None = None
        self.senders: dict[tuple[str, str], str] = {}

    def prepare(self, write: Callable[[], EmailMessage]) -> None:
        """Write the message and send it up to its end, on the helper thread."""
        self.preparing = self.helper.submit(self._send_all_but_the_end, write)

    def _send_all_but_the_end(self, write: Callable[[], EmailMessage]) -> None:
        packed = self._pack(write())
        self.connection.open()
        server = self.connection.connection
        # The "." goes out on its own after the message: without this, it would wait for
        # the server to acknowledge the message's last bytes, which it may delay.
        server.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _send_all_but_the_end(server, *packed)

    def _pack(self, message: EmailMessage) -> tuple[str, list[str], bytes]:
        """The envelope and the bytes, as Django's SMTP backend makes them of `message`."""
        encoding = message.encoding or settings.DEFAULT_CHARSET
        if (message.from_email, encoding) not in self.senders:
            self.senders[message.from_email, encoding] = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in message.recipients()]
        return self.senders[message.from_email, encoding], recipients, message.message().as_bytes(linesep="\r\n")

    def hand_over(self) -> None:
        """End the prepared message; returns once the server accepted it, raises if it did not."""
        preparing, self.preparing = self.preparing, None
        preparing.result()
        server = self.connection.connection
        server.send(END_OF_DATA)
        code, reply = server.getreply()
        if code != 250:
            _give_up(server, code)
            raise smtplib.SMTPDataError(code, reply)

    def abort(self) -> None:
        """Leave a prepared message unended, so the server never accepts it."""
        if self.preparing is not None:
            wait([self.preparing])
            self.preparing = None
            if self.connection.connection is not None:
                self.connection.connection.close()
                self.connection.connection = None

    def close(self) -> None:
        self.abort()
        self.helper.shutdown()


def _send_all_but_the_end(server: smtplib.SMTP, sender: str, recipients: list[str], data: bytes) -> None:
    """smtplib.SMTP.sendmail up to the "." that ends the message, with its checks and errors."""
    server.ehlo_or_helo_if_needed()
    options = [f"size={len(data)}"] if server.does_esmtp and server.has_extn("size") else []
    code, reply = server.mail(sender, options)
    if code != 250:
        _give_up(server, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = server.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
        if code == 421:
            server.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        _give_up(server, code)
        raise smtplib.SMTPRecipientsRefused(refused)
    server.putcmd("data")
    code, reply = server.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    quoted = LINE_STARTING_WITH_A_DOT.sub(b"..", data)
    server.send(quoted if quoted.endswith(b"\r\n") else quoted + b"\r\n")


def _give_up(server: smtplib.SMTP, code: int) -> None:
    """Close the connection the server is closing (421), or reset the transaction."""
    if code == 421:
        server.close()
        return
    with suppress(smtplib.SMTPServerDisconnected):
        server.rset()


# RFC 5321 4.5.2: a line of the message that starts with "." gets another one.
LINE_STARTING_WITH_A_DOT = re.compile(rb"(?m)^\.")
