"""The directory's routes: the control panel keeps its accounts in step (``PUT`` an account by its own id, or
up to 500 at once), organisations put their staff and their configuration, and API keys are made; a caller reads
itself and what it may choose (``GET /me``), and the accounts and configurations of its branch.

Every route sends directory commands to the tickets service, which decides who may change what (see the
README's directory section): a record the caller may not change answers 404, like one that does not exist. A
``PUT`` of what the record already is changes nothing and answers 200 with its version; ``If-Match`` refuses
the change unless the record is at that version. Each route takes ``Idempotency-Key`` like every command.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import uuid5

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from hostdesk_contracts.base import Actor
from hostdesk_contracts.directory import (
    ID_PATTERN,
    MAIL_ADDRESS_PATTERN,
    AccountKind,
    AccountRecord,
    Configuration,
    DirectoryCommand,
    PutAccount,
    Scope,
    StaffRecord,
)
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.auth import scoped_actor
from hostdesk_contracts.runtime.directory import Directory
from hostdesk_contracts.runtime.problems import NotFound
from hostdesk_contracts.runtime.rate_limit import RateLimitedActorDep, rate_limited_actor
from hostdesk_contracts.runtime.sealing import SealBroken, Sealer

from hostdesk_intake.api.answers import (
    PENDING,
    PROBLEMS,
    answer_directory,
    answer_directory_all,
    directory_refusal,
    dispatched_or_pending,
)
from hostdesk_intake.api.deps import BusDep, DirectoryEnvelopeDep
from hostdesk_intake.api.problems import InvalidField
from hostdesk_intake.api.schemas.directory import (
    AccountBody,
    ApiKeyRequest,
    BulkAccountsRequest,
    ConfigurationBody,
    MailboxBody,
    StaffBody,
    SupportAddressBody,
    create_key_command,
    new_api_key,
)
from hostdesk_intake.api.schemas.directory_views import Addressee, Me, OrganisationView
from hostdesk_intake.api.schemas.responses import BulkDirectoryAnswer, DirectoryCommitted, NewApiKey
from hostdesk_intake.domain.commands import IDEMPOTENCY_NAMESPACE, Envelope

router = APIRouter(prefix="/v1/directory", tags=["directory"])


async def get_directory(request: Request) -> Directory:
    directory: Directory = request.app.state.directory
    return directory


DirectoryDep = Annotated[Directory, Depends(get_directory)]

RecordId = Annotated[str, Path(pattern=ID_PATTERN.pattern, description="The control panel's own id.")]
DIRECTORY_ANSWERS: dict[int | str, dict[str, Any]] = (
    PENDING
    | PROBLEMS
    | {
        404: {"model": Problem, "description": "No such record that the caller may change."},
        409: {"model": Problem, "description": "The record is not at the version given in If-Match."},
    }
)


@router.put("/accounts/{account_id}", response_model=DirectoryCommitted, responses=DIRECTORY_ANSWERS)
async def put_account(
    account_id: RecordId, payload: AccountBody, envelope: DirectoryEnvelopeDep, bus: BusDep
) -> JSONResponse:
    """Create or replace an account: the control panel's synchronisation, by its own id."""
    return await answer_directory(bus, payload.to_command(envelope, account_id), envelope=envelope)


@router.put("/accounts", response_model=BulkDirectoryAnswer, responses=PENDING | PROBLEMS)
async def put_accounts(
    payload: BulkAccountsRequest, envelope: DirectoryEnvelopeDep, bus: BusDep
) -> BulkDirectoryAnswer:
    """Up to 500 accounts at once, each as ``PUT /accounts/{id}`` would, parents before their children.

    Each account is a command of its own, answered in ``results``: one refused refuses no other. The same
    request sent again with the same Idempotency-Key is the same commands."""
    layers = _parents_first(
        [
            _one_of_many(envelope, each.id).directory(PutAccount, account=each.record(each.id))
            for each in payload.accounts
        ]
    )
    return BulkDirectoryAnswer(results=await answer_directory_all(bus, layers, envelope=envelope))


@router.put("/staff/{staff_id}", response_model=DirectoryCommitted, responses=DIRECTORY_ANSWERS)
async def put_staff(
    staff_id: RecordId, payload: StaffBody, envelope: DirectoryEnvelopeDep, bus: BusDep
) -> JSONResponse:
    """Create or replace a support account of a provider's or a reseller's organisation."""
    return await answer_directory(bus, payload.to_command(envelope, staff_id), envelope=envelope)


@router.put(
    "/organisations/{organisation_id}/configuration", response_model=DirectoryCommitted, responses=DIRECTORY_ANSWERS
)
async def configure(
    organisation_id: RecordId, payload: ConfigurationBody, envelope: DirectoryEnvelopeDep, bus: BusDep
) -> JSONResponse:
    """Replace an organisation's departments, categories, status labels, canned responses and settings: its
    supervisors' (and its own account's) to change. A department is retired, never removed."""
    return await answer_directory(bus, payload.to_command(envelope, organisation_id), envelope=envelope)


SupportAddressPath = Annotated[
    str, Path(max_length=254, description="The address, as mail is sent to it (any case: it is kept lower-cased).")
]


@router.put("/support-addresses/{address}", response_model=DirectoryCommitted, responses=DIRECTORY_ANSWERS)
async def put_support_address(
    request: Request,
    address: SupportAddressPath,
    payload: SupportAddressBody,
    envelope: DirectoryEnvelopeDep,
    bus: BusDep,
    directory: DirectoryDep,
) -> JSONResponse:
    """Receive support mail at ``address`` for an organisation (its MTA forwards it to intake's SMTP listener, or
    delivers it to ``mailbox``, which intake polls), in a department when one is named: its supervisors' (and its
    own account's) to change. An address is its first organisation's for ever: ``retired`` stops its mail, and no
    other organisation can take it (404, as for a record the caller may not change).

    A mailbox's password is sealed here, before the command is sent; it is never shown again."""
    if not MAIL_ADDRESS_PATTERN.fullmatch(address.strip().lower()):
        raise InvalidField("address", "an e-mail address is local-part@domain, in ASCII, without spaces")
    mailbox = None
    if payload.mailbox is not None:
        mailbox = payload.mailbox.record(await _sealed_password(request, directory, address, payload.mailbox))
    return await answer_directory(bus, payload.to_command(envelope, address, mailbox=mailbox), envelope=envelope)


async def _sealed_password(request: Request, directory: Directory, address: str, mailbox: MailboxBody) -> str:
    """The mailbox's password sealed: the one given, else the one the address's mailbox holds for the same login."""
    sealer: Sealer = request.app.state.runtime.sealer
    if not sealer.usable:
        raise InvalidField("mailbox", "this installation keeps no mailbox passwords: INTAKE_MAILBOX_KEYS is not set")
    if mailbox.password is not None:
        return sealer.seal(mailbox.password.get_secret_value())
    held = await directory.support_address(address)
    if (
        held is None
        or held.mailbox is None
        or not mailbox.record(held.mailbox.password_sealed).same_login(held.mailbox)
    ):
        raise InvalidField("mailbox.password", "a new mailbox, server or user name needs its password")
    try:
        return sealer.rotate(held.mailbox.password_sealed)  # under the first key: how keys are rotated
    except SealBroken as error:
        raise InvalidField("mailbox.password", f"{error}: give the password again") from error


@router.post("/api-keys", status_code=201, response_model=NewApiKey, responses=DIRECTORY_ANSWERS)
async def create_api_key(payload: ApiKeyRequest, envelope: DirectoryEnvelopeDep, bus: BusDep) -> JSONResponse:
    """Make a key for a system (monitoring, billing, the control panel) acting for ``account_id`` with the
    given scopes. The key is in this answer only (also when 202: keep it; it works once the command is applied)."""
    key_id, key = new_api_key()
    command = create_key_command(envelope, payload, key_id, key)
    outcome = await dispatched_or_pending(bus, command, envelope=envelope)
    if outcome is not None and outcome.result == "refused":
        raise directory_refusal(outcome)
    body = NewApiKey(
        id=key_id,
        key=key,
        account_id=payload.account_id,
        scopes=[scope.value for scope in command.api_key.scopes],
        command_id=command.command_id,
        result="pending" if outcome is None else "committed",
        version=None if outcome is None else outcome.version,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if outcome is None else 201)


def _one_of_many(envelope: Envelope, record_id: str) -> Envelope:
    """The envelope of one record's command in a request on many: its id derives from the request's."""
    return dataclasses.replace(
        envelope,
        command_id=str(uuid5(IDEMPOTENCY_NAMESPACE, f"{envelope.command_id}:{record_id}")),
        expected_version=None,
    )


def _parents_first(commands: Sequence[PutAccount]) -> list[list[DirectoryCommand]]:
    """The commands in layers: an account whose parent is also in the request comes a layer after it."""
    by_id = {command.account.id: command for command in commands}
    depth: dict[str, int] = {}

    def depth_of(account_id: str, seen: frozenset[str] = frozenset()) -> int:
        if account_id not in depth:
            parent = by_id[account_id].account.parent_id
            inside = parent is not None and parent in by_id and parent not in seen
            depth[account_id] = depth_of(parent, seen | {account_id}) + 1 if inside and parent else 0
        return depth[account_id]

    layers: list[list[DirectoryCommand]] = []
    for command in commands:
        level = depth_of(command.account.id)
        layers.extend([] for _ in range(level + 1 - len(layers)))
        layers[level].append(command)
    return [layer for layer in layers if layer]


DirectoryReaderDep = Annotated[Actor, Depends(scoped_actor(Scope.DIRECTORY_READ)), Depends(rate_limited_actor)]
READ_ANSWERS: dict[int | str, dict[str, Any]] = PROBLEMS | {
    404: {"model": Problem, "description": "No such record that the caller may read."}
}


@router.get("/me", response_model=Me, responses=READ_ANSWERS)
async def me(caller: RateLimitedActorDep, directory: DirectoryDep) -> Me:
    """The caller, and what it may choose when it opens a ticket: the organisations it may address (its parent
    first, then each ancestor up to the provider) with their departments and categories, and its own hosting
    services. For staff: their organisation's departments, categories, canned responses, labels and colleagues."""
    record = await directory.principal(caller.account_id)
    if record is None:
        raise NotFound("The directory does not know you any more.")
    if isinstance(record, StaffRecord):
        configuration = await directory.configuration(record.organisation_id)
        colleagues = await directory.staff_of(record.organisation_id)
        return Me(
            id=record.id,
            tenant=caller.tenant,
            kind="staff",
            display_name=record.display_name,
            language=record.language.value,
            role=record.role.value,
            organisation=OrganisationView.of(record.organisation_id, configuration, colleagues),
        )
    subaccount = record.kind is AccountKind.SUBACCOUNT
    addressees = [
        Addressee.of(each, await directory.configuration(each.id), subaccount=subaccount)
        for each in await directory.ancestors(record.id)
        if each.kind.handles and not each.disabled
    ]
    return Me(
        id=record.id,
        tenant=caller.tenant,
        kind=record.kind,
        display_name=record.display_name,
        language=record.language.value,
        role=caller.role.value,
        services=list(record.services),
        addressees=addressees,
    )


@router.get("/accounts/{account_id}", response_model=AccountRecord, responses=READ_ANSWERS)
async def read_account(account_id: RecordId, caller: DirectoryReaderDep, directory: DirectoryDep) -> AccountRecord:
    """An account of the caller's branch: itself, or one below an organisation it handles for (its own account
    or, for staff, their organisation). Any other answers 404, as an unknown one does."""
    record = await directory.principal(account_id)
    if not isinstance(record, AccountRecord) or not await _in_branch(caller, record.id, directory):
        raise NotFound(f"There is no account {account_id} that you may read.")
    return record


@router.get("/organisations/{organisation_id}/configuration", response_model=Configuration, responses=READ_ANSWERS)
async def read_configuration(
    organisation_id: RecordId, caller: DirectoryReaderDep, directory: DirectoryDep
) -> Configuration:
    """An organisation's configuration, to its own account and staff and to the organisations above it."""
    configuration = await directory.configuration(organisation_id)
    if configuration is None or not await _in_branch(caller, organisation_id, directory):
        raise NotFound(f"There is no configuration of {organisation_id} that you may read.")
    return configuration


async def _in_branch(caller: Actor, account_id: str, directory: Directory) -> bool:
    """Whether ``account_id`` is the caller's own account, or is at or below the organisation it handles for."""
    if caller.account_id == account_id:
        return True
    handles = caller.organisation_id if caller.role.is_staff else caller.account_id
    if handles == account_id:
        return True
    return any(each.id == handles for each in await directory.ancestors(account_id))
