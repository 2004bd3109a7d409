"""What the routes need, as ``Annotated`` dependencies read from ``app.state``: the bus, the caller, the envelope,
the status labels, and readiness.

Every ticket route needs the scope ``tickets:write`` (a token has every scope; an API key only its own), the
directory's routes ``directory:write``; either way the caller's account is counted against its rate. Opening a
ticket and posting a reply are also counted against the limits every replica shares (``Admission``): a token's
caller as its account, a key's caller as that key."""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials
from hostdesk_contracts.base import Actor, Status
from hostdesk_contracts.directory import Scope
from hostdesk_contracts.runtime.auth import BearerDep, Caller, actor_with, current_caller
from hostdesk_contracts.runtime.clock import Clock
from hostdesk_contracts.runtime.directory import Directory
from hostdesk_contracts.runtime.rate_limit import rate_limited_actor

from hostdesk_intake.adapters.command_bus import CommandBus
from hostdesk_intake.adapters.uploads import Uploads
from hostdesk_intake.domain.commands import IDEMPOTENCY_KEY_PATTERN, Envelope, command_id_for
from hostdesk_intake.domain.idempotency import request_digest
from hostdesk_intake.domain.limits import Action, Counted
from hostdesk_intake.domain.status_labels import StatusLabels
from hostdesk_intake.service_layer.limits import Admission, Limiter

# A version, bare or as an entity tag (strong or weak), or "*" for any version.
IF_MATCH_PATTERN = r'^(?:\*|[1-9][0-9]{0,17}|(?:W/)?"[1-9][0-9]{0,17}")$'


async def get_bus(request: Request) -> CommandBus:
    bus: CommandBus = request.app.state.bus
    return bus


async def status_labels_of(request: Request, caller: Actor) -> StatusLabels:
    """The status labels the caller names: its organisation's own (staff: the one they work for; an account
    that handles tickets: its own) from the directory, over the installation's defaults for its tenant."""
    labels: StatusLabels = request.app.state.status_labels
    directory: Directory = request.app.state.directory
    configuration = await directory.configuration(caller.organisation_id or caller.account_id)
    if configuration is None or not configuration.status_labels:
        return labels
    return _overlaid(labels, caller.tenant, tuple(configuration.status_labels.items()))


@functools.lru_cache(maxsize=1024)
def _overlaid(labels: StatusLabels, tenant: str, own: tuple[tuple[str, Status], ...]) -> StatusLabels:
    """An organisation's labels over the installation's, made once per distinct set (every reply names them)."""
    return labels.overlaid(tenant, dict(own))


async def _authorised(request: Request, credentials: HTTPAuthorizationCredentials | None, scope: Scope) -> Caller:
    """The caller, with ``scope``, once its account's rate allows another request. The steps are called here
    rather than declared as dependencies of their own: FastAPI's resolution of each dependency costs on every
    request, more than most of the steps themselves."""
    caller = await current_caller(request, credentials)
    await rate_limited_actor(request, actor_with(caller, scope))
    return caller


async def tickets_writer(request: Request, credentials: BearerDep) -> Caller:
    return await _authorised(request, credentials, Scope.TICKETS_WRITE)


async def directory_writer(request: Request, credentials: BearerDep) -> Caller:
    return await _authorised(request, credentials, Scope.DIRECTORY_WRITE)


async def tickets_importer(request: Request, credentials: BearerDep) -> Caller:
    return await _authorised(request, credentials, Scope.TICKETS_IMPORT)


TicketsWriterDep = Annotated[Caller, Depends(tickets_writer)]


async def ticket_caller(caller: TicketsWriterDep) -> Actor:
    """The caller of a ticket route (with ``tickets:write``), once its account's rate allows another request."""
    return caller.actor


async def directory_caller(caller: Annotated[Caller, Depends(directory_writer)]) -> Actor:
    """The caller of a directory route (with ``directory:write``), once its account's rate allows another one."""
    return caller.actor


async def get_status_labels(request: Request, caller: CallerDep) -> StatusLabels:
    return await status_labels_of(request, caller)


# The authenticated caller, as the directory says it is (never the system: no directory entry is), once its
# account's rate allows another request: every route of intake counts against it.
CallerDep = Annotated[Actor, Depends(ticket_caller)]
DirectoryCallerDep = Annotated[Actor, Depends(directory_caller)]


def _admission(request: Request, caller: Caller, action: Action) -> Admission | None:
    """What the request counts as. An app assembled by hand around the router (no limiter in ``app.state``)
    counts nothing."""
    limiter: Limiter | None = getattr(request.app.state, "limiter", None)
    if limiter is None:
        return None
    return Admission(limiter=limiter, action=action, counted=Counted.caller(caller.actor, key_id=caller.key_id))


BusDep = Annotated[CommandBus, Depends(get_bus)]
StatusLabelsDep = Annotated[StatusLabels, Depends(get_status_labels)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description="1-200 printable characters."),
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", pattern=IF_MATCH_PATTERN, description="The ticket version expected.")
]


async def envelope(request: Request, caller: CallerDep, idempotency_key: IdempotencyKey = None) -> Envelope:
    """The envelope of the request's commands; with an Idempotency-Key, the digest of what the request asks."""
    return await _envelope_of(request, caller, idempotency_key)


async def directory_envelope(
    request: Request, caller: DirectoryCallerDep, idempotency_key: IdempotencyKey = None, if_match: IfMatch = None
) -> Envelope:
    """The envelope of a directory command (the caller with ``directory:write``), which may name the version of the
    record it expects."""
    base = await _envelope_of(request, caller, idempotency_key)
    return dataclasses.replace(base, expected_version=expected_version(if_match))


async def _envelope_of(request: Request, caller: Actor, idempotency_key: str | None) -> Envelope:
    clock: Clock = request.app.state.clock
    digest = None
    if idempotency_key is not None:
        if_match = request.headers.get("If-Match")
        digest = request_digest(
            method=request.method,
            path=request.url.path,
            body=await request.body(),  # read already, and kept, by FastAPI
            # A malformed If-Match is a 422 of its own, before any command: its digest does not matter.
            expected_version=expected_version(if_match) if _well_formed(if_match) else None,
            actor=caller,
        )
    return Envelope(command_id=command_id_for(caller, idempotency_key), actor=caller, issued_at=clock(), digest=digest)


async def ticket_envelope(base: Annotated[Envelope, Depends(envelope)], if_match: IfMatch = None) -> Envelope:
    """The envelope of a command on an existing ticket, which may name the version it expects."""
    return dataclasses.replace(base, expected_version=expected_version(if_match))


def _well_formed(if_match: str | None) -> bool:
    return if_match is None or re.fullmatch(IF_MATCH_PATTERN, if_match) is not None


def expected_version(if_match: str | None) -> int | None:
    """``3``, ``"3"`` and ``W/"3"`` all expect version 3; ``*`` or no header expects none."""
    if if_match is None or if_match == "*":
        return None
    return int(if_match.removeprefix("W/").strip('"'))


async def import_envelope(
    request: Request, caller: Annotated[Caller, Depends(tickets_importer)], idempotency_key: IdempotencyKey = None
) -> Envelope:
    """The envelope of an import (the caller with ``tickets:import``)."""
    return await _envelope_of(request, caller.actor, idempotency_key)


EnvelopeDep = Annotated[Envelope, Depends(envelope)]
ImportEnvelopeDep = Annotated[Envelope, Depends(import_envelope)]
TicketEnvelopeDep = Annotated[Envelope, Depends(ticket_envelope)]
DirectoryEnvelopeDep = Annotated[Envelope, Depends(directory_envelope)]


@dataclass(frozen=True)
class Posting:
    """What a route that writes in a conversation needs (opening a ticket, posting a reply), resolved as one
    dependency: these are the routes taken most. ``labels`` are the status labels the caller may name (a reply
    may set a status by its label; an open names none, and carries the installation's without looking up the
    organisation's), ``admission`` what the request counts as."""

    envelope: Envelope
    bus: CommandBus
    uploads: Uploads
    labels: StatusLabels
    admission: Admission | None


async def opening(request: Request, caller: TicketsWriterDep, idempotency_key: IdempotencyKey = None) -> Posting:
    return Posting(
        envelope=await _envelope_of(request, caller.actor, idempotency_key),
        bus=request.app.state.bus,
        uploads=request.app.state.uploads,
        labels=request.app.state.status_labels,
        admission=_admission(request, caller, Action.OPEN),
    )


async def replying(
    request: Request, caller: TicketsWriterDep, idempotency_key: IdempotencyKey = None, if_match: IfMatch = None
) -> Posting:
    base = await _envelope_of(request, caller.actor, idempotency_key)
    return Posting(
        envelope=dataclasses.replace(base, expected_version=expected_version(if_match)),
        bus=request.app.state.bus,
        uploads=request.app.state.uploads,
        labels=await status_labels_of(request, caller.actor),
        admission=_admission(request, caller, Action.REPLY),
    )


OpeningDep = Annotated[Posting, Depends(opening)]
ReplyingDep = Annotated[Posting, Depends(replying)]
