"""The port through which intake reads a support mailbox, and its IMAP and POP3 adapters (the standard library's
``imaplib`` and ``poplib``, each call in a worker thread, so the event loop never waits on a mailbox server).

A session lists the messages waiting (each by the server's stable id: its UID under IMAP, its UIDL under POP3, and
its size), fetches one without marking it read, and deletes those it is told to. Deletions take effect when the
session ends well (``close``): IMAP expunges the messages flagged ``\\Deleted`` (only those, by UID, when the server
speaks UIDPLUS), POP3 commits its ``DELE``s at ``QUIT``. A session that breaks off, or a process killed, deletes
nothing: every message is fetched again next time, and what follows is exactly once however often a message is
received.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import poplib
import re
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from hostdesk_contracts.directory import MailboxProtocol, MailboxRecord, MailboxSecurity

# poplib refuses a line longer than 2,048 bytes (its _MAXLINE), which would leave a message with one long line in the
# mailbox for ever; imaplib's bound is a million. A line of a message may not pass the SMTP listener's size anyway.
poplib._MAXLINE = 1_000_000  # type: ignore[attr-defined]

T = TypeVar("T")
_FETCHED_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class MailboxUnavailable(Exception):
    """The mailbox could not be read: its server unreachable, the login refused, a command failed. The reason is
    the server's or the network's, for the mailbox's status."""


@dataclass(frozen=True)
class Letter:
    key: str  # the server's id of the message: stable across sessions
    size: int


class MailboxSession(Protocol):
    async def letters(self) -> list[Letter]:
        """The messages waiting, oldest first."""
        ...

    async def fetch(self, letter: Letter) -> bytes:
        """The message's bytes, as delivered (not marked read)."""
        ...

    async def delete(self, letter: Letter) -> None:
        """Mark the message for deletion: it is gone once the session is closed."""
        ...

    async def close(self) -> None:
        """End the session, the deletions asked for taking effect. Raises ``MailboxUnavailable`` when they could
        not (the messages are fetched again next time)."""
        ...

    async def abort(self) -> None:
        """End the session, deleting nothing."""
        ...


class MailboxClient(Protocol):
    async def open(self, mailbox: MailboxRecord, password: str) -> MailboxSession:
        """A logged-in session on ``mailbox``. Raises ``MailboxUnavailable``."""
        ...


@dataclass(frozen=True)
class NetworkMailboxes:
    """``MailboxClient`` over the network: IMAP or POP3 as the mailbox says, with TLS as it says."""

    timeout: float = 30.0
    tls: ssl.SSLContext | None = None  # the system's trusted authorities when None

    async def open(self, mailbox: MailboxRecord, password: str) -> MailboxSession:
        context = self.tls or ssl.create_default_context()
        opener = _open_imap if mailbox.protocol is MailboxProtocol.IMAP else _open_pop3
        session: MailboxSession = await _in_thread(lambda: opener(mailbox, password, context, self.timeout))
        return session


async def _in_thread(call: Callable[[], T]) -> T:
    """``call()`` in a worker thread, its failures as ``MailboxUnavailable``."""
    try:
        return await asyncio.to_thread(call)
    except (OSError, EOFError, imaplib.IMAP4.error, poplib.error_proto, ssl.SSLError) as error:
        raise MailboxUnavailable(_reason(error)) from error


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "the mailbox server did not answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "the mailbox server refused the connection"
    if isinstance(error, socket.gaierror):
        return "the mailbox server's name does not resolve"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    text = error.args[0] if error.args else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text)[:500] or type(error).__name__


def _imap_quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _open_imap(mailbox: MailboxRecord, password: str, context: ssl.SSLContext, timeout: float) -> ImapSession:
    if mailbox.security is MailboxSecurity.TLS:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=timeout)
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
    try:
        if mailbox.security is MailboxSecurity.STARTTLS:
            client.starttls(ssl_context=context)
        client.login(mailbox.username, password)
        status, answer = client.select(_imap_quoted(mailbox.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"the folder {mailbox.folder!r} cannot be opened: {_text(answer)}")
    except BaseException:
        _quietly(client.shutdown)
        raise
    return ImapSession(client)


def _text(answer: Sequence[object]) -> str:
    first = answer[0] if answer else b""
    return first.decode("utf-8", "replace") if isinstance(first, bytes) else str(first)


def _quietly(call: Callable[[], object]) -> None:
    with contextlib.suppress(OSError, EOFError, imaplib.IMAP4.error, poplib.error_proto):
        call()


class ImapSession:
    def __init__(self, client: imaplib.IMAP4) -> None:
        self._client = client
        self._deleted: list[str] = []

    def _ok(self, answer: tuple[str, list[object]], what: str) -> list[object]:
        status, data = answer
        if status != "OK":
            raise imaplib.IMAP4.error(f"{what} failed: {_text(data)}")
        return data

    async def letters(self) -> list[Letter]:
        def listed() -> list[Letter]:
            found = self._ok(self._client.uid("SEARCH", "UNDELETED"), "SEARCH")
            uids = b" ".join(each for each in found if isinstance(each, bytes)).split()
            if not uids:
                return []
            sizes: dict[str, int] = {}
            # Every message's size in one short command (a list of 100,000 UIDs would pass the server's line limit),
            # kept for the undeleted ones the search found.
            data = self._ok(self._client.uid("FETCH", "1:*", "(RFC822.SIZE)"), "FETCH")
            for line in data:
                if isinstance(line, bytes) and (match := _FETCHED_SIZE.search(line)):
                    uid, size = (match[1], match[2]) if match[1] else (match[4], match[3])
                    sizes[uid.decode()] = int(size)
            return [Letter(uid.decode(), sizes[uid.decode()]) for uid in uids if uid.decode() in sizes]

        return await _in_thread(listed)

    async def fetch(self, letter: Letter) -> bytes:
        def fetched() -> bytes:
            data = self._ok(self._client.uid("FETCH", letter.key, "(BODY.PEEK[])"), "FETCH")
            for part in data:
                if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
                    return part[1]
            raise imaplib.IMAP4.error(f"message {letter.key} is no longer in the mailbox")

        return await _in_thread(fetched)

    async def delete(self, letter: Letter) -> None:
        await _in_thread(
            lambda: self._ok(self._client.uid("STORE", letter.key, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        )
        self._deleted.append(letter.key)

    async def close(self) -> None:
        def closed() -> None:
            try:
                if self._deleted and "UIDPLUS" in self._client.capabilities:
                    self._ok(self._client.uid("EXPUNGE", ",".join(self._deleted)), "UID EXPUNGE")
                elif self._deleted:
                    self._ok(self._client.expunge(), "EXPUNGE")
                _quietly(self._client.logout)
            finally:
                _quietly(self._client.shutdown)

        await _in_thread(closed)

    async def abort(self) -> None:
        await asyncio.to_thread(_quietly, self._client.shutdown)


def _open_pop3(mailbox: MailboxRecord, password: str, context: ssl.SSLContext, timeout: float) -> Pop3Session:
    if mailbox.security is MailboxSecurity.TLS:
        client: poplib.POP3 = poplib.POP3_SSL(mailbox.host, mailbox.port, context=context, timeout=timeout)
    else:
        client = poplib.POP3(mailbox.host, mailbox.port, timeout=timeout)
    try:
        if mailbox.security is MailboxSecurity.STARTTLS:
            client.stls(context=context)
        client.user(mailbox.username)
        client.pass_(password)
    except BaseException:
        _quietly(client.close)
        raise
    return Pop3Session(client)


class Pop3Session:
    def __init__(self, client: poplib.POP3) -> None:
        self._client = client
        self._numbers: dict[str, int] = {}  # UIDL -> the message's number in this session

    async def letters(self) -> list[Letter]:
        def listed() -> list[Letter]:
            _, uidl, _ = self._client.uidl()
            _, sizes_listed, _ = self._client.list()
            sizes = dict(line.split()[:2] for line in sizes_listed)
            letters = []
            for line in uidl:
                number, uid = line.split()[:2]
                self._numbers[uid.decode("ascii", "replace")] = int(number)
                letters.append(Letter(uid.decode("ascii", "replace"), int(sizes.get(number, b"0"))))
            return letters

        return await _in_thread(listed)

    async def fetch(self, letter: Letter) -> bytes:
        def fetched() -> bytes:
            _, lines, _ = self._client.retr(self._numbers[letter.key])
            return b"\r\n".join(lines) + b"\r\n"  # poplib has undone the dot-stuffing

        return await _in_thread(fetched)

    async def delete(self, letter: Letter) -> None:
        await _in_thread(lambda: self._client.dele(self._numbers[letter.key]))

    async def close(self) -> None:
        def closed() -> None:
            try:
                self._client.quit()  # the server deletes what was DELE'd now, and only now
            finally:
                _quietly(self._client.close)

        await _in_thread(closed)

    async def abort(self) -> None:
        await asyncio.to_thread(_quietly, self._client.close)
