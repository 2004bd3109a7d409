"""What becomes of a support mail received: a post (a new ticket or a reply), screened, or quarantined.

In this order (``domain.mail`` reads and screens, ``domain.mail_routing`` decides where it goes):

1. Its raw bytes are read from the mail store and parsed. A message that cannot be read (broken beyond
   reading, an endless header, nesting too deep, a file over the limit...) is **quarantined** with the reason.
2. Auto-replies, bounces, bulk mail and loops are **screened**, as is a sender past its mails an hour.
3. The sender is the directory's holder of its address, or a guest account made for it under the handling
   organisation (the organisation of the support address it came to; in its department, if the address names
   one).
4. It is a reply to the first ticket it names (``domain.mail_routing``) that lets its sender post; else a new
   ticket, addressed to the handling organisation. Its files are stored as the post's attachments.

Each command's id derives from the message's identity: whatever happens between two deliveries of the same
message (a replica killed after sending, the same message from SMTP and from a mailbox), the post is made once.
A dependency away (NATS, the directory) is ``TryLater``: the message comes again, and nothing is quarantined for
an outage. Anything else going wrong with one message quarantines that message, naming what went wrong; the
ones behind it go on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Actor, Channel, Role
from hostdesk_contracts.commands import (
    CC_MAX_BY_REQUESTER,
    POST_BODY_MAX_CHARS,
    OpenTicket,
    PostReply,
    ticket_id_for,
)
from hostdesk_contracts.directory import AccountRecord, PutAccount
from hostdesk_contracts.mail import MailOutcome, MailReceived, MailResult
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.auth import actor_of
from hostdesk_contracts.runtime.blobs import BlobStore, BlobsUnavailable
from hostdesk_contracts.runtime.clock import Clock
from hostdesk_contracts.runtime.directory import Directory, DirectoryUnavailable

from hostdesk_intake.adapters.command_bus import BusUnavailable, CommandBus
from hostdesk_intake.adapters.mail_stream import MailStream
from hostdesk_intake.adapters.rate_counters import RateCounters
from hostdesk_intake.adapters.threads import Threads
from hostdesk_intake.domain.attachments import media_type_of
from hostdesk_intake.domain.mail import (
    InboundMail,
    Unreadable,
    plus_ticket_number,
    read_mail,
    screening,
    thread_ticket_ids,
    ticket_numbers_in,
)
from hostdesk_intake.domain.mail_routing import (
    MailPolicy,
    attachment_id_for,
    cc_of,
    command_id_for,
    guest_account,
    post_body,
    sender_among,
    subject_line,
)
from hostdesk_intake.service_layer.dispatch import dispatch
from hostdesk_intake.service_layer.mail_receiving import support_address_of, untagged

log = logging.getLogger(__name__)

SUBJECT_MAX = 200
MAX_MERGES_FOLLOWED = 5
MESSAGE_IDS_LOOKED_UP = 10  # of a reply's In-Reply-To and References, those looked up among imported tickets' mail
GUEST_VISIBLE_SECONDS = 5.0  # how long a new guest account is waited for in the directory before its ticket


class TryLater(Exception):
    """A dependency is away, or a command is not decided yet: handle the message again later."""


@dataclass(frozen=True)
class _Decided:
    """What a mail became, before it is published."""

    result: MailResult
    reason: str | None = None
    outcome: CommandOutcome | None = None
    opened: bool = False


class MailProcessor:
    def __init__(
        self,
        *,
        directory: Directory,
        raw_store: BlobStore,
        attachments: BlobStore,
        bus: CommandBus,
        counters: RateCounters,
        threads: Threads,
        stream: MailStream,
        clock: Clock,
        policy: MailPolicy,
    ) -> None:
        self._directory = directory
        self._raw = raw_store
        self._attachments = attachments
        self._bus = bus
        self._counters = counters
        self._threads = threads
        self._stream = stream
        self._clock = clock
        self._policy = policy

    async def process(self, received: MailReceived, *, delivery: str) -> MailOutcome:
        """Make ``received`` into what it is, and publish that. Raises ``TryLater``."""
        mail: InboundMail | None = None
        try:
            raw = await self._raw.get(received.tenant, received.mail_id)
            if raw is None:
                decided = _Decided(MailResult.QUARANTINED, "The raw message is missing from the mail store.")
            else:
                try:
                    # Parsing a large message takes seconds of CPU: off the event loop that serves intake's HTTP API.
                    mail = await asyncio.to_thread(read_mail, raw, limits=self._policy.limits)
                except Unreadable as unreadable:
                    decided = _Decided(MailResult.QUARANTINED, f"The message cannot be read: {unreadable.reason}")
                else:
                    decided = await self._decide(received, raw, mail)
        except (BusUnavailable, BlobsUnavailable, DirectoryUnavailable, TryLater) as error:
            raise TryLater(str(error)) from error
        except Exception as error:  # one message's failure must not stop the mail behind it: it is kept instead
            log.exception("mail %s of %s could not be processed", received.mail_id, received.tenant)
            decided = _Decided(MailResult.QUARANTINED, f"The message could not be processed: {type(error).__name__}.")
        outcome = self._outcome(received, mail, decided)
        try:
            await self._stream.decided(outcome, delivery=delivery)
        except BusUnavailable as error:
            raise TryLater(str(error)) from error
        return outcome

    async def _decide(self, received: MailReceived, raw: bytes, mail: InboundMail) -> _Decided:
        tenant = received.tenant
        own = frozenset(untagged(each) for each in received.recipients) | self._policy.system_addresses
        screened = screening(raw, mail, own_addresses=own, return_path=received.return_path)
        if screened is not None:
            return _Decided(MailResult.SCREENED, f"Screened: {screened.value}.")
        if not await self._counters.take(
            f"mail.{tenant}.{_digest(mail.sender.address)}.{_hour(self._clock())}",
            limit=self._policy.per_sender_per_hour,
        ):
            return _Decided(
                MailResult.SCREENED,
                f"Screened: more than {self._policy.per_sender_per_hour} mails this hour from {mail.sender.address}.",
            )
        support = await support_address_of(self._directory, received.recipients[0])
        organisation = await self._directory.principal(support.organisation_id) if support is not None else None
        if support is None or not isinstance(organisation, AccountRecord) or organisation.disabled:
            return _Decided(MailResult.QUARANTINED, "No organisation takes mail at this address any more.")
        sender = await self._sender(tenant, mail, organisation)
        if sender is None:
            return _Decided(MailResult.QUARANTINED, f"The sender {mail.sender.address} may not write to support.")
        for ticket_id in await self._threaded(tenant, received, mail):
            reply = await self._reply(tenant, mail, sender, ticket_id)
            if reply is not None:
                return reply
        if sender.role.is_staff:
            return _Decided(
                MailResult.QUARANTINED,
                f"{mail.sender.address} is staff, and the message is a reply to no ticket of theirs: staff open a "
                "ticket for a customer from the console.",
            )
        cc = await self._copied(mail, own)
        return await self._open(tenant, mail, sender, organisation, department=support.department, cc=cc)

    async def _copied(self, mail: InboundMail, own: frozenset[str]) -> tuple[str, ...]:
        """The ticket's CC recipients from the mail's To and Cc, less any support address of the directory's."""
        candidates = cc_of(mail, excluded=own, limit=CC_MAX_BY_REQUESTER * 4)
        kept = [each for each in candidates if await support_address_of(self._directory, each) is None]
        return tuple(kept[:CC_MAX_BY_REQUESTER])

    async def _sender(self, tenant: str, mail: InboundMail, organisation: AccountRecord) -> Actor | None:
        """The sender as an actor: the directory's holder of its address, else its guest account (made now)."""
        holders = [
            record
            for record in await self._directory.principals_with_email(mail.sender.address)
            if await self._directory.tenant_of(record) == tenant
        ]
        below = [
            record.id
            for record in holders
            if isinstance(record, AccountRecord)
            and organisation.id in {a.id for a in await self._directory.ancestors(record.id)}
        ]
        found = sender_among(holders, organisation_id=organisation.id, below=below)
        if found is None:
            if any(isinstance(record, AccountRecord) for record in holders):
                return None  # disabled: the provider has shut this sender out
            found = await self._guest(tenant, mail, organisation)
        return await actor_of(found, self._directory)

    async def _guest(self, tenant: str, mail: InboundMail, organisation: AccountRecord) -> AccountRecord:
        record = guest_account(
            tenant=tenant,
            address=mail.sender.address,
            name=mail.sender.name,
            organisation=organisation,
            language=mail.language_hint,
        )
        held = await self._directory.principal(record.id)
        if isinstance(held, AccountRecord):
            return held
        # The organisation's own account puts its guest: a provider, reseller or customer may put accounts below it.
        command = PutAccount(
            command_id=command_id_for(tenant, record.email or "", "guest"),
            actor=Actor(
                account_id=organisation.id,
                tenant=tenant,
                role=Role(organisation.kind.value),
                display_name=organisation.display_name or None,
            ),
            issued_at=self._clock(),
            account=record,
        )
        outcome = await dispatch(self._bus, command)
        if outcome is None:
            raise TryLater("the guest account is not decided yet")
        if outcome.result == "refused":
            raise RuntimeError(f"the guest account was refused: {outcome.refusal} {outcome.detail}")
        # The tickets service looks the requester up in the directory bucket: the open waits for the record there.
        try:
            async with asyncio.timeout(GUEST_VISIBLE_SECONDS):
                while True:
                    if isinstance(held := await self._directory.principal(record.id), AccountRecord):
                        return held
                    await asyncio.sleep(0.05)
        except TimeoutError as error:
            raise TryLater(f"the guest account {record.id} is not in the directory yet") from error

    async def _threaded(self, tenant: str, received: MailReceived, mail: InboundMail) -> list[UUID]:
        """The tickets the mail names, in the order they count."""
        tickets: list[UUID] = []
        tagged = (plus_ticket_number(address, untagged(address)) for address in received.recipients)
        for number in dict.fromkeys(number for number in tagged if number is not None):
            if (ticket_id := await self._threads.ticket_of(tenant, number)) is not None:
                tickets.append(ticket_id)
        own = thread_ticket_ids((*mail.in_reply_to, *mail.references))
        tickets += own
        if not own:  # no mail of ours: perhaps the previous helpdesk's, about a ticket imported since
            named = dict.fromkeys((*mail.in_reply_to, *reversed(mail.references)))  # the mail replied to first
            for message_id in list(named)[:MESSAGE_IDS_LOOKED_UP]:
                if (ticket_id := await self._threads.ticket_of_message(tenant, message_id)) is not None:
                    tickets.append(ticket_id)
        for number in ticket_numbers_in(mail.subject):
            if (ticket_id := await self._threads.ticket_of(tenant, number)) is not None:
                tickets.append(ticket_id)
        return list(dict.fromkeys([await self._followed(tenant, ticket_id) for ticket_id in tickets]))

    async def _followed(self, tenant: str, ticket_id: UUID) -> UUID:
        """The ticket a ticket was merged into (and so on, a few merges deep), or itself."""
        for _ in range(MAX_MERGES_FOLLOWED):
            into = await self._threads.merged_into(tenant, ticket_id)
            if into is None:
                break
            ticket_id = into
        return ticket_id

    async def _reply(self, tenant: str, mail: InboundMail, sender: Actor, ticket_id: UUID) -> _Decided | None:
        """The mail as a reply to ``ticket_id``; ``None`` when that ticket does not let the sender post."""
        command_id = command_id_for(tenant, mail.identity, f"reply:{ticket_id}")
        command = PostReply(
            command_id=command_id,
            ticket_id=ticket_id,
            actor=sender,
            issued_at=self._clock(),
            body=post_body(mail.reply, has_files=bool(mail.files), limit=POST_BODY_MAX_CHARS),
            attachments=await self._stored_files(tenant, mail, command_id),
        )
        outcome = await self._sent(command)
        if outcome.result == "committed":
            return _Decided(MailResult.POSTED, outcome=outcome)
        if outcome.refusal in (Refusal.NOT_FOUND, Refusal.CONFLICT, Refusal.STALE):
            return None  # not the sender's to post to, or closed for good (archived, merged): a new ticket
        return _refused(outcome)

    async def _open(
        self,
        tenant: str,
        mail: InboundMail,
        sender: Actor,
        organisation: AccountRecord,
        *,
        department: str | None,
        cc: tuple[str, ...] = (),
    ) -> _Decided:
        command_id = command_id_for(tenant, mail.identity, "open")
        command = OpenTicket(
            command_id=command_id,
            ticket_id=ticket_id_for(command_id),
            actor=sender,
            issued_at=self._clock(),
            subject=subject_line(mail.subject, limit=SUBJECT_MAX),
            body=post_body(mail.text, has_files=bool(mail.files), limit=POST_BODY_MAX_CHARS),
            channel=Channel.EMAIL,
            department=department,
            cc=cc,
            handling_organisation_id=organisation.id,
            attachments=await self._stored_files(tenant, mail, command_id),
        )
        outcome = await self._sent(command)
        if outcome.result == "committed":
            return _Decided(MailResult.POSTED, outcome=outcome, opened=True)
        return _refused(outcome)

    async def _stored_files(self, tenant: str, mail: InboundMail, command_id: str) -> tuple[Attachment, ...]:
        attachments = []
        for index, file in enumerate(mail.files):
            digest = await self._attachments.put(tenant, file.data)
            attachments.append(
                Attachment(
                    id=attachment_id_for(command_id, index),
                    name=file.name,
                    media_type=media_type_of(file.data),
                    size=len(file.data),
                    digest=digest,
                )
            )
        return tuple(attachments)

    async def _sent(self, command: OpenTicket | PostReply) -> CommandOutcome:
        outcome = await dispatch(self._bus, command)
        if outcome is None:
            raise TryLater(f"command {command.command_id} is not decided yet")
        return outcome

    def _outcome(self, received: MailReceived, mail: InboundMail | None, decided: _Decided) -> MailOutcome:
        outcome = decided.outcome
        return MailOutcome(
            mail_id=received.mail_id,
            tenant=received.tenant,
            result=decided.result,
            reason=decided.reason,
            source=received.source,
            recipients=received.recipients,
            received_at=received.received_at,
            decided_at=self._clock(),
            identity=mail.identity if mail else None,
            message_id=mail.message_id if mail else None,
            sender=mail.sender.address if mail else None,
            subject=mail.subject[:SUBJECT_MAX] if mail else None,
            ticket_id=outcome.ticket_id if outcome else None,
            number=outcome.number if outcome else None,
            opened=decided.opened,
            command_id=outcome.command_id if outcome else None,
        )


def _refused(outcome: CommandOutcome) -> _Decided:
    if outcome.refusal is Refusal.RATE_LIMITED:
        return _Decided(MailResult.SCREENED, f"Screened: too many posts to this ticket. {outcome.detail or ''}".strip())
    if outcome.refusal is Refusal.INVALID and outcome.field == "requester_id":
        raise TryLater(f"the sender's account is not known to the tickets service yet: {outcome.detail}")
    why = f"({outcome.refusal}, {outcome.field or 'no field'}): {outcome.detail or ''}"
    return _Decided(MailResult.QUARANTINED, f"The tickets service refused it {why}".strip())


def _digest(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()[:32]


def _hour(now: datetime) -> int:
    return int(now.timestamp()) // 3600
