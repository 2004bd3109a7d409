"""A real SMTP server that keeps every mail it receives: for tests, and for the local setup.

In tests::

    with SmtpSink(port=free_port()) as sink:
        ...  # point the sender at sink.port
        mail = await sink.mailbox.wait_for_async(lambda m: "[#482913]" in m.subject, within=10)

From a shell, until Ctrl-C, printing one line per mail and writing each as a ``.eml`` file::

    python -m hostdesk_devtools.smtp_sink --port 8025 --dir .run/mail
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    received_at: datetime
    peer: tuple[str, int] | None = None  # the sending side of the SMTP session it came in

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        text = "" if part is None else str(part.get_content())
        return text.replace("\r\n", "\n")  # SMTP carries CRLF line ends


MailPredicate = Callable[[ReceivedMail], bool]


class Mailbox:
    """Every mail received, in order. Safe to read from any thread while the server adds to it."""

    def __init__(self) -> None:
        self._mails: list[ReceivedMail] = []
        self._changed = threading.Condition()

    def add(self, mail: ReceivedMail) -> None:
        with self._changed:
            self._mails.append(mail)
            self._changed.notify_all()

    def all(self) -> list[ReceivedMail]:
        with self._changed:
            return list(self._mails)

    def matching(self, predicate: MailPredicate) -> list[ReceivedMail]:
        return [mail for mail in self.all() if predicate(mail)]

    def wait_for(self, predicate: MailPredicate, timeout: float) -> ReceivedMail:
        """The first mail that matches, waiting up to ``timeout`` seconds for it. Blocks the calling thread:
        from a coroutine, use ``wait_for_async``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for mail in self._mails:
                    if predicate(mail):
                        return mail
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching mail within {timeout:.1f}s ({len(self._mails)} received)")
                self._changed.wait(remaining)

    async def wait_for_async(self, predicate: MailPredicate, *, within: float) -> ReceivedMail:
        """``wait_for`` in a worker thread, so that the event loop (and the sender on it) keeps running."""
        return await asyncio.to_thread(self.wait_for, predicate, within)


class _KeepingHandler:
    """aiosmtpd's handler hook: called once per mail after the DATA command."""

    def __init__(self, mailbox: Mailbox, directory: Path | None, on_mail: Callable[[ReceivedMail, Path | None], None]):
        self._mailbox = mailbox
        self._directory = directory
        self._on_mail = on_mail
        self._counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        mail = ReceivedMail(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=message,
            received_at=datetime.now(UTC),
            peer=tuple(session.peer) if session.peer else None,
        )
        path = self._write(mail) if self._directory is not None else None
        self._mailbox.add(mail)
        self._on_mail(mail, path)
        return "250 Message accepted for delivery"

    def _write(self, mail: ReceivedMail) -> Path:
        assert self._directory is not None
        self._directory.mkdir(parents=True, exist_ok=True)
        name = f"{mail.received_at:%Y%m%dT%H%M%S.%f}-{next(self._counter):05d}.eml"
        path = self._directory / name
        path.write_bytes(mail.raw)
        return path


def _ignore(mail: ReceivedMail, path: Path | None) -> None:
    """The default ``on_mail``: nothing beyond keeping the mail."""


class SmtpSink:
    """An SMTP server in a thread of its own, keeping what it receives in ``mailbox`` (and in ``directory``)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8025,
        directory: Path | None = None,
        on_mail: Callable[[ReceivedMail, Path | None], None] = _ignore,
    ) -> None:
        self.host = host
        self.port = port
        self.mailbox = Mailbox()
        self._controller = Controller(
            _KeepingHandler(self.mailbox, directory, on_mail), hostname=host, port=port, ready_timeout=10.0
        )

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _print_mail(mail: ReceivedMail, path: Path | None) -> None:
    where = f" -> {path}" if path else ""
    recipients = ", ".join(mail.rcpt_tos)
    print(f"{mail.received_at:%H:%M:%S} {mail.mail_from} -> {recipients}: {mail.subject!r}{where}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hostdesk_devtools.smtp_sink", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=None, help="also write each mail here as a .eml file")
    arguments = parser.parse_args(argv)
    sink = SmtpSink(host=arguments.host, port=arguments.port, directory=arguments.dir, on_mail=_print_mail)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Set explicitly: a shell starting the sink in the background may have told it to ignore SIGINT.
        signal.signal(signum, lambda *_: stopping.set())
    with sink:
        print(f"SMTP sink listening on {arguments.host}:{arguments.port}; Ctrl-C to stop", flush=True)
        while not stopping.wait(0.5):
            pass
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
