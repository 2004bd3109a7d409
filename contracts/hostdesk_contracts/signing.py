"""The relay's signature on every event: proof that a message of the events stream came from the tickets
service's log, and not from anyone else who could publish there.

NATS permissions already let only the tickets service publish events; the signature is the second wall, for a
server configured wrongly or a credential that leaked. It is an HMAC-SHA256, keyed by ``HOSTDESK_EVENT_KEY``,
over the subject, the headers the consumers act on, and the body, in the header ``Hostdesk-Signature``. A
subscriber given the key may check it too (``EventSigner(key).verify(msg.subject, msg.headers, msg.data)``);
whoever holds the key could sign, so it goes only to systems trusted as much as the services.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from hostdesk_contracts.subjects import ES_POSITION, EVENT_TYPE, MSG_ID, TICKET_ID, TICKET_VERSION

SIGNATURE = "Hostdesk-Signature"
_VERSION = "v1"
_SIGNED_HEADERS = (MSG_ID, TICKET_ID, TICKET_VERSION, EVENT_TYPE, ES_POSITION)


class EventSigner:
    def __init__(self, key: str) -> None:
        if len(key) < 32:
            raise ValueError("the event key must be at least 32 characters")
        self._key = key.encode()

    def _digest(self, subject: str, headers: Mapping[str, str], body: bytes) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in (subject, *(headers.get(name, "") for name in _SIGNED_HEADERS)):
            encoded = part.encode()
            mac.update(len(encoded).to_bytes(4, "big"))  # length-prefixed: no two header sets sign alike
            mac.update(encoded)
        mac.update(body)
        return mac.digest()

    def sign(self, subject: str, headers: Mapping[str, str], body: bytes) -> str:
        """The value of the ``Hostdesk-Signature`` header for this message."""
        return f"{_VERSION}={base64.urlsafe_b64encode(self._digest(subject, headers, body)).decode()}"

    def signed(self, subject: str, headers: Mapping[str, str], body: bytes) -> dict[str, str]:
        """``headers`` with the signature added."""
        return {**headers, SIGNATURE: self.sign(subject, headers, body)}

    def private_id(self, value: str) -> str:
        """A token of ``value`` only a holder of the key can make: the relay's ``Nats-Msg-Id`` for an event whose
        own id (ticket and version, predictable) someone else's message took first."""
        mac = hmac.new(self._key, b"msg-id\x00" + value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")

    def verify(self, subject: str, headers: Mapping[str, str] | None, body: bytes) -> bool:
        given = (headers or {}).get(SIGNATURE)
        if not given:
            return False
        return hmac.compare_digest(given, self.sign(subject, headers or {}, body))

    def refusal(self, subject: str, headers: Mapping[str, str] | None, body: bytes) -> str | None:
        """Why the message is not the relay's, or None when it is."""
        if not (headers or {}).get(SIGNATURE):
            return "not signed by the relay (no Hostdesk-Signature header): not from the tickets service's log"
        if not self.verify(subject, headers, body):
            return "the relay's signature does not match: the message was forged or altered"
        return None
