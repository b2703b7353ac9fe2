"""A real SMTP server on loopback (aiosmtpd) for the outbox tests, in this process."""

import socket
import threading

from aiosmtpd.controller import Controller


class Inbox:
    """An SMTP handler that keeps what it receives. `answers` (optional) are the replies to the
    first DATA commands, e.g. ["451 try again later"]; then every message is accepted. `on_data`
    (optional) is called with each envelope once it is stored, before the server answers."""

    def __init__(self, answers=(), on_data=None):
        self.messages = []
        self.answers = list(answers)
        self.on_data = on_data
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope)
            answer = self.answers.pop(0) if self.answers else "250 OK"
        if self.on_data is not None:
            self.on_data(envelope)
        return answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPServer:
    def __init__(self, inbox: Inbox | None = None):
        self.port = free_port()
        self.inbox = inbox or Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self):
        return self.inbox.messages

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def header(envelope, name: str) -> str:
    """One header of a received message, e.g. header(envelope, "Message-ID")."""
    raw = envelope.content.decode("utf-8", "replace")
    head = raw.split("\r\n\r\n", 1)[0].replace("\r\n", "\n")
    for line in head.split("\n"):
        key, _sep, value = line.partition(":")
        if key.lower() == name.lower():
            return value.strip()
    return ""
