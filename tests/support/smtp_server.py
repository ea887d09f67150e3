"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests.

Not listening until ``start``: before that (or after ``stop``) a connection is refused, which is
what "the mail server is down" looks like to the portal.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter

from aiosmtpd.controller import Controller

from tests.support.ports import free_port


class FakeSmtp:
    """aiosmtpd on 127.0.0.1; not listening until ``start`` (connection refused = SMTP down)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[email.message.EmailMessage] = []
        self.refused_recipients: set[str] = set()
        self.refusing = False
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.refusing:  # up, but turning mail away for now (a full queue, maintenance)
            return "421 4.3.2 Service not available, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refused_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append(message)
        return "250 Message accepted"

    def outbox_ids(self) -> Counter:
        return Counter(int(m["X-Immtrax-Outbox-Id"]) for m in self.received)

    def messages_to(self, address: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return [m for m in self.received if address in str(m["To"])]
