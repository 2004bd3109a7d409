"""The mail log, for the staff of the organisations that receive support mail: what became of each message (posted,
screened, quarantined), its raw bytes, and replaying it.

- ``GET /v1/mail?result=quarantined&after=<id>`` lists the log's entries of one result, oldest first, 50 at a time;
  ``next_after`` is the id to list the next page from.
- ``GET /v1/mail/{id}/raw`` is the message as it was received (``message/rfc822``).
- ``POST /v1/mail/{id}/replay`` makes the message into what it is again (once the cause of its quarantine is
  fixed: a department, a limit): a message made into a post before is not posted twice.
- ``GET /v1/mail/mailboxes`` lists the support mailboxes intake polls (IMAP, POP3), each with its latest poll:
  when, what it received, what waits, why it failed. ``POST /v1/mail/mailboxes/{address}/poll`` polls one now.

An entry (and a mailbox) is visible to the staff of the organisation one of its support addresses belongs to, and to
that organisation's own account; to anyone else it does not exist (404). A provider's staff do not read the mail of a
reseller's address.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from hostdesk_contracts.base import Actor
from hostdesk_contracts.directory import MailboxProtocol, MailboxSecurity, SupportAddressRecord
from hostdesk_contracts.mail import MailOutcome, MailReceived, MailResult, MailSource
from hostdesk_contracts.runtime.blobs import BlobStore
from hostdesk_contracts.runtime.directory import Directory
from hostdesk_contracts.runtime.problems import NotFound
from pydantic import BaseModel

from hostdesk_intake.adapters.mail_stream import Entry, MailStream
from hostdesk_intake.adapters.mailbox_status import MailboxStatuses
from hostdesk_intake.api.answers import PROBLEMS
from hostdesk_intake.api.deps import CallerDep
from hostdesk_intake.domain.mailboxes import MailboxStatus
from hostdesk_intake.service_layer.mail_receiving import support_address_of

router = APIRouter(prefix="/v1/mail", tags=["mail"])
PAGE = 50

EntryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The entry's id in the mail log.")]


class LogEntry(BaseModel):
    id: int
    outcome: MailOutcome


class MailLogPage(BaseModel):
    entries: list[LogEntry]
    next_after: int | None


@router.get("", response_model=MailLogPage, responses=PROBLEMS)
async def mail_log(
    request: Request,
    caller: CallerDep,
    result: MailResult = MailResult.QUARANTINED,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> MailLogPage:
    stream: MailStream = request.app.state.runtime.mail_stream
    entries = await stream.entries(caller.tenant, result, after=after, limit=PAGE)
    visible = [each for each in entries if await _may_see(caller, each, request.app.state.directory)]
    last = entries[-1].sequence if len(entries) == PAGE else None
    return MailLogPage(entries=[LogEntry(id=each.sequence, outcome=each.outcome) for each in visible], next_after=last)


class MailboxView(BaseModel):
    """A support address's mailbox (its password never shown) and its latest poll (``None``: not polled yet)."""

    address: str
    organisation_id: str
    department: str | None
    protocol: MailboxProtocol
    host: str
    port: int
    security: MailboxSecurity
    username: str
    folder: str
    interval_seconds: int
    status: MailboxStatus | None


@router.get("/mailboxes", response_model=list[MailboxView], responses=PROBLEMS)
async def mailboxes(request: Request, caller: CallerDep) -> list[MailboxView]:
    organisation = _organisation_of(caller)
    runtime = request.app.state.runtime
    directory: Directory = runtime.directory
    return [
        await _view(runtime, record) for record in await directory.mailboxes() if record.organisation_id == organisation
    ]


MailboxAddress = Annotated[str, Path(max_length=254, description="The support address whose mailbox it is.")]


@router.post("/mailboxes/{address}/poll", response_model=MailboxView, responses=PROBLEMS)
async def poll_mailbox(request: Request, address: MailboxAddress, caller: CallerDep) -> MailboxView:
    """Poll the mailbox now, and answer once the poll has ended (or, when another replica polls it, with the status
    that replica wrote last)."""
    runtime = request.app.state.runtime
    directory: Directory = runtime.directory
    record = await directory.support_address(address)
    if record is None or record.mailbox is None or record.retired or record.organisation_id != _organisation_of(caller):
        raise NotFound(f"There is no mailbox of yours polled for {address!r}.")
    await runtime.mailbox_polling.poll_now(record)
    return await _view(runtime, record)


async def _view(runtime: Any, record: SupportAddressRecord) -> MailboxView:
    mailbox = record.mailbox
    assert mailbox is not None
    statuses: MailboxStatuses = runtime.mailbox_statuses
    status, _ = await statuses.get(record.address)
    return MailboxView(
        address=record.address,
        organisation_id=record.organisation_id,
        department=record.department,
        **mailbox.model_dump(exclude={"password_sealed"}),
        status=status,
    )


def _organisation_of(caller: Actor) -> str | None:
    return caller.organisation_id if caller.role.is_staff else caller.account_id


@router.get(
    "/{entry_id}/raw",
    response_class=Response,
    responses=PROBLEMS | {200: {"content": {"message/rfc822": {}}}, 404: {"description": "No such entry of yours."}},
)
async def raw_mail(request: Request, entry_id: EntryId, caller: CallerDep) -> Response:
    entry = await _visible_entry(request, entry_id, caller)
    store: BlobStore = request.app.state.runtime.raw_mail
    raw = await store.get(caller.tenant, entry.outcome.mail_id)
    if raw is None:
        raise NotFound(f"The message of mail log entry {entry_id} is no longer kept.")
    headers = {
        "Content-Disposition": f'attachment; filename="mail-{entry_id}.eml"',
        "X-Content-Type-Options": "nosniff",
    }
    return Response(raw, media_type="message/rfc822", headers=headers)


@router.post("/{entry_id}/replay", status_code=202, response_model=MailReceived, responses=PROBLEMS)
async def replay_mail(request: Request, entry_id: EntryId, caller: CallerDep) -> MailReceived:
    """Process the message again; what becomes of it is a new entry of the log."""
    entry = await _visible_entry(request, entry_id, caller)
    outcome = entry.outcome
    runtime = request.app.state.runtime
    raw = await runtime.raw_mail.get(caller.tenant, outcome.mail_id)
    if raw is None:
        raise NotFound(f"The message of mail log entry {entry_id} is no longer kept.")
    mail = MailReceived(
        mail_id=outcome.mail_id,
        tenant=outcome.tenant,
        size=len(raw),
        source=MailSource.REPLAY,
        return_path=None,
        recipients=outcome.recipients,
        received_at=runtime.clock(),
    )
    stream: MailStream = runtime.mail_stream
    await stream.received(mail, again=f"{entry_id}.{int(runtime.clock().timestamp() * 1000)}")
    return mail


async def _visible_entry(request: Request, entry_id: int, caller: Actor) -> Entry:
    stream: MailStream = request.app.state.runtime.mail_stream
    entry = await stream.entry(caller.tenant, entry_id)
    if entry is None or not await _may_see(caller, entry, request.app.state.directory):
        raise NotFound(f"There is no mail log entry {entry_id} that you may see.")
    return entry


async def _may_see(caller: Actor, entry: Entry, directory: Directory) -> bool:
    """Whether ``caller`` speaks for an organisation one of the entry's support addresses belongs to."""
    organisation = _organisation_of(caller)
    for recipient in entry.outcome.recipients:
        address = await support_address_of(directory, recipient)
        if address is not None and address.organisation_id == organisation:
            return True
    return False
