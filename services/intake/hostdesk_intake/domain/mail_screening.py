"""Whether an inbound e-mail that could be read makes no ticket and gets no reply, and why: mail from the system
itself or looped through it, delivery reports, automatic replies and bulk mail. Answering any of them could start
a loop of mail between two machines, or answer a mailing list. Pure rules (a rate bound per sender is kept
elsewhere).

Checked in this order, the first that holds:

1. ``OWN_ADDRESS``: the sender is one of the system's own addresses (its support addresses and the one it sends
   from), or an ``X-Loop`` or ``X-HostDesk-Loop`` header names one of them;
2. ``DELIVERY_REPORT``: a ``multipart/report`` of ``report-type`` ``delivery-status`` (RFC 3464) or
   ``disposition-notification`` (RFC 8098 read receipts); a From of ``MAILER-DAEMON`` or ``postmaster``; the null
   return path ``<>``, as the SMTP envelope gave it or, when the envelope is unknown (mail fetched from a mailbox),
   as the ``Return-Path`` header says it;
3. ``AUTO_SUBMITTED``: ``Auto-Submitted`` (RFC 3834) present with any value but ``no``;
4. ``AUTO_REPLY``: ``X-Autoreply``, ``X-Autorespond`` or ``X-Autoresponse`` present. (Microsoft's
   ``X-Auto-Response-Suppress`` only asks others not to answer automatically: the mail itself is a person's.)
5. ``BULK``: ``Precedence`` ``bulk``, ``junk`` or ``list``; a ``List-Id`` or ``List-Unsubscribe`` header.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import collapse_rfc2231_value, getaddresses
from enum import StrEnum
from typing import TYPE_CHECKING

from hostdesk_intake.domain.mail_raw import header_block_size
from hostdesk_intake.domain.mail_text import raw_header_text

if TYPE_CHECKING:
    from hostdesk_intake.domain.mail import InboundMail


class Screened(StrEnum):
    """Why a message makes no ticket and gets no reply."""

    AUTO_SUBMITTED = "auto_submitted"
    AUTO_REPLY = "auto_reply"
    BULK = "bulk"
    DELIVERY_REPORT = "delivery_report"
    OWN_ADDRESS = "own_address"


LOOP_HEADERS = ("X-Loop", "X-HostDesk-Loop")
AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponse")
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
LIST_HEADERS = ("List-Id", "List-Unsubscribe")
REPORT_TYPES = frozenset({"delivery-status", "disposition-notification"})
SYSTEM_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_NULL_PATH = re.compile(r"<\s*>")


def screening(
    raw: bytes, mail: InboundMail, *, own_addresses: frozenset[str], return_path: str | None
) -> Screened | None:
    """Why ``mail`` (read from ``raw``) makes no ticket and gets no reply; ``None`` when it is a person's mail.
    ``return_path`` is the SMTP envelope's MAIL FROM (``""`` for the null sender), ``None`` when unknown."""
    try:
        return _screened(_headers(raw), mail, own_addresses=own_addresses, return_path=return_path)
    # Whatever the bytes, screening answers: headers it cannot read screen nothing (read_mail read them already).
    except Exception:  # noqa: BLE001
        return None


def _screened(
    headers: Message, mail: InboundMail, *, own_addresses: frozenset[str], return_path: str | None
) -> Screened | None:
    if _is_own(headers, mail, own_addresses):
        return Screened.OWN_ADDRESS
    if _is_report(headers, mail, return_path):
        return Screened.DELIVERY_REPORT
    if _auto_submitted(headers):
        return Screened.AUTO_SUBMITTED
    if any(name in headers for name in AUTO_REPLY_HEADERS):
        return Screened.AUTO_REPLY
    if _value(headers, "Precedence") in BULK_PRECEDENCE or any(name in headers for name in LIST_HEADERS):
        return Screened.BULK
    return None


def _headers(raw: bytes) -> Message:
    size = header_block_size(raw, max_bytes=len(raw)) or 0
    return BytesHeaderParser(policy=compat32).parsebytes(raw[:size])


def _value(headers: Message, name: str) -> str | None:
    """The first ``name`` field's value, before any parameter, stripped and lower-cased; ``None`` when absent."""
    value = headers.get(name)
    return None if value is None else raw_header_text(value).split(";")[0].strip().lower()


def _is_own(headers: Message, mail: InboundMail, own_addresses: frozenset[str]) -> bool:
    if mail.sender.address in own_addresses:
        return True
    for name in LOOP_HEADERS:
        values = [raw_header_text(value) for value in headers.get_all(name) or ()]
        named = {address.strip().lower() for _, address in getaddresses(values)}
        named |= {value.strip().lower() for value in values}
        if named & own_addresses:
            return True
    return False


def _is_report(headers: Message, mail: InboundMail, return_path: str | None) -> bool:
    report_type = headers.get_param("report-type") if headers.get_content_type() == "multipart/report" else None
    if report_type is not None and collapse_rfc2231_value(report_type).strip().lower() in REPORT_TYPES:
        return True
    if mail.sender.address.rpartition("@")[0] in SYSTEM_SENDERS:
        return True
    if return_path is None:
        given = headers.get("Return-Path")
        return given is not None and _NULL_PATH.fullmatch(raw_header_text(given).strip()) is not None
    return return_path.strip() in ("", "<>")


def _auto_submitted(headers: Message) -> bool:
    value = _value(headers, "Auto-Submitted")
    return value is not None and value != "no"
