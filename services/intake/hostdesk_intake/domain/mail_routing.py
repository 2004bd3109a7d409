"""Where a support mail goes, as pure rules: the ids its commands take, the guest account of a stranger, the
tickets it may be a reply to, and who among the directory's holders of its sender's address wrote it.

Ids. Every command a mail makes has an id derived from the tenant and the message's identity (its bytes less the
trace headers a relay or a mailbox adds): the same message received twice, by two replicas, or by SMTP and by a
mailbox, makes the same commands, which the tickets service applies once. Two messages that share a Message-ID
but differ are two identities, and both are kept.

Threading. A mail is a reply to a ticket when its per-ticket reply address names the ticket's number
(``support+t482913@``), when its ``In-Reply-To`` or ``References`` name a thread id the product's own mail
carries (``<ticket-<uuid>@domain>``), or when its subject names the number (``[#482913]``), in that order. The
sender must be one the ticket lets post (its requesting side, or its handling side's staff): a number from a
stranger is a new ticket of the stranger's, never a post to someone else's.

Senders. An address may be held by several records (a customer and its subaccount share a mailbox): the sender
is, of those enabled in the mail's tenant, the first (in id order) of its handling organisation's staff, else of
the accounts below that organisation, else of the tenant's other accounts. An address nobody holds is a guest:
an account made for it under the handling organisation (``guest_account``), known by that address from then on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID, uuid5

from hostdesk_contracts.auth import MAX_NAME
from hostdesk_contracts.directory import AccountKind, AccountRecord, Language, StaffRecord

from hostdesk_intake.domain.mail import InboundMail, MailLimits

MAIL_NAMESPACE = UUID("7c1e2f0a-93b4-4d6e-8a5f-2b7c9d0e1f34")


@dataclass(frozen=True)
class MailPolicy:
    limits: MailLimits
    per_sender_per_hour: int  # mails one address may send a tenant in an hour before the next are screened
    system_addresses: frozenset[str]  # the product's own sender addresses: mail from them is a loop


def command_id_for(tenant: str, identity: str, what: str) -> str:
    """The id of the command ``what`` (``open``, ``reply:<ticket id>``, ``guest``) a message makes."""
    return str(uuid5(MAIL_NAMESPACE, f"{tenant}\n{identity}\n{what}"))


def attachment_id_for(command_id: str, index: int) -> str:
    """A file's attachment id, the same whenever the same message is made into the same command."""
    digest = hashlib.sha256(f"{command_id}\n{index}".encode()).hexdigest()
    return f"att_{digest[:32]}"


def guest_id_for(tenant: str, address: str) -> str:
    digest = hashlib.sha256(f"{tenant}\n{address.lower()}".encode()).hexdigest()
    return f"guest-{digest[:32]}"


def guest_account(
    *, tenant: str, address: str, name: str | None, organisation: AccountRecord, language: str | None
) -> AccountRecord:
    """The account of a sender the directory does not know, under the organisation its mail is addressed to: a
    customer of a provider or a reseller, a subaccount of a customer."""
    kind = AccountKind.SUBACCOUNT if organisation.kind is AccountKind.CUSTOMER else AccountKind.CUSTOMER
    spoken = language if language in {each.value for each in Language} else organisation.language.value
    return AccountRecord(
        id=guest_id_for(tenant, address),
        kind=kind,
        parent_id=organisation.id,
        display_name=(name or address).strip()[:MAX_NAME] or address,
        email=address.lower(),
        language=Language(spoken),
    )


def sender_among(
    records: Sequence[AccountRecord | StaffRecord], *, organisation_id: str, below: Iterable[str]
) -> AccountRecord | StaffRecord | None:
    """Who wrote the mail, of the enabled ``records`` of its tenant holding its sender's address: the
    organisation's staff first, then accounts below it (``below``: ids of accounts whose ancestors include it),
    then any other account; in id order each."""
    enabled = sorted((record for record in records if not record.disabled), key=lambda record: record.id)
    below_ids = set(below)
    for record in enabled:
        if isinstance(record, StaffRecord) and record.organisation_id == organisation_id:
            return record
    for record in enabled:
        if isinstance(record, AccountRecord) and record.id in below_ids:
            return record
    return next((record for record in enabled if isinstance(record, AccountRecord)), None)


def subject_line(subject: str, *, limit: int) -> str:
    """The ticket's subject from the mail's: at most ``limit`` characters, never empty."""
    text = " ".join(subject.split())[:limit].strip()
    return text or "(no subject)"


def post_body(text: str, *, has_files: bool, limit: int) -> str:
    """A post's body from a mail's text: at most ``limit`` characters (the whole message stays downloadable),
    never empty."""
    text = text.strip()
    if len(text) > limit:
        note = "\n\n[cut: the full message is kept]"
        text = text[: limit - len(note)].rstrip() + note
    if text:
        return text
    return "(no text: see the attached files)" if has_files else "(no text)"


_CC_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # as a ticket's CC recipient must be (``EmailAddress``)


def cc_of(mail: InboundMail, *, excluded: frozenset[str], limit: int) -> tuple[str, ...]:
    """Who a mail that opens a ticket copied: its To and Cc addresses but its sender, the support addresses and
    the product's own (``excluded``, lower-cased, untagged), each once, in order, at most ``limit``: they are the
    ticket's CC recipients, told of its answers as the sender is (as the sender's mail client would have told them).
    """
    found: list[str] = []
    for each in (*mail.to, *mail.cc):
        address = each.address.lower()
        local, _, domain = address.rpartition("@")
        untagged = f"{local.partition('+')[0]}@{domain}"
        if address == mail.sender.address.lower() or untagged in excluded or address in excluded:
            continue
        if _CC_ADDRESS.fullmatch(address) and len(address) <= 254 and address not in found:
            found.append(address)
    return tuple(found[:limit])
