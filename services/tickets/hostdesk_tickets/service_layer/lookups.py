"""What the directory says that a ticket command's decision needs, looked up before the ticket decides.

Ticket commands are checked against the directory as its bucket has it (``Directory``: in memory in every replica,
kept by a watch within milliseconds of a change, read directly on a miss), not against the directory's aggregates
in the event store, which would cost several reads on every open. The directory's own invariants are still
checked against its aggregates (``service_layer.directory``).

Every look-up is made from the command alone, before the ticket is loaded: an actor handles for one organisation
(``Reach.handles``), so the configuration an update's names belong to is that organisation's, and the ticket then
checks that it is its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.commands import AnyCommand, AssignTicket, ImportTicket, OpenTicket, UpdateTicket
from hostdesk_contracts.directory import AccountRecord, Configuration, StaffRecord
from hostdesk_contracts.runtime.departments import DirectoryDepartments
from hostdesk_contracts.runtime.directory import Directory

from hostdesk_tickets.domain.addressing import OpeningFacts, addressed_to, requester_id_of


@dataclass(frozen=True, slots=True)
class Facts:
    """The directory's answers for one command: the caller's reach, and what its kind of command needs (for an
    open, its requester, ancestors and handling organisation; for an assignment, the assignee's record; for an
    update, the configuration of the organisation the caller handles for)."""

    reach: Reach
    opening: OpeningFacts | None = None
    assignee: AccountRecord | StaffRecord | None = None
    configuration: Configuration | None = None


def facts_of_the_product(command: AnyCommand) -> Facts:
    """The facts of a command of the product itself (auto-close): it acts for the handling side, needs nothing
    else, and is never looked up."""
    if command.actor.role is not Role.SYSTEM:
        raise ValueError("only the product's own commands are decided without the directory")
    return Facts(reach=reach_of(command.actor))


async def reach_for(actor: Actor, directory: Directory) -> Reach:
    """The caller's reach: an agent of an organisation whose configuration says ``staff_see_own_departments_only``
    sees only the tickets of its own departments (supervisors are never limited), as query and notify say too."""
    return reach_of(actor, departments=await DirectoryDepartments(directory).limit_for(actor))


async def look_up(command: AnyCommand, directory: Directory) -> Facts:
    """The facts ``command``'s decision needs. May raise ``DirectoryUnavailable``."""
    if command.actor.role is Role.SYSTEM:
        return facts_of_the_product(command)
    reach = await reach_for(command.actor, directory)
    match command:
        case OpenTicket():
            return Facts(reach=reach, opening=await _opening_facts(command, reach, directory))
        case ImportTicket():
            return Facts(reach=reach, opening=await _opening_facts(command.as_open(), reach, directory))
        case AssignTicket(assignee=assignee) if assignee is not None:
            return Facts(reach=reach, assignee=await directory.principal(assignee.account_id))
        case UpdateTicket() if reach.handles is not None and (command.department or command.category):
            return Facts(reach=reach, configuration=await directory.configuration(reach.handles))
    return Facts(reach=reach)


async def look_up_all(commands: Sequence[AnyCommand], directory: Directory) -> dict[str, Facts]:
    """The facts of each command, by command id, looked up together."""
    found = await asyncio.gather(*(look_up(command, directory) for command in commands))
    return {command.command_id: facts for command, facts in zip(commands, found, strict=True)}


async def _opening_facts(command: OpenTicket, reach: Reach, directory: Directory) -> OpeningFacts:
    requester_id = requester_id_of(command)
    requester = await directory.principal(requester_id)
    if not isinstance(requester, AccountRecord):
        return OpeningFacts(requester=requester)
    ancestors = await directory.ancestors(requester_id)
    handler = addressed_to(command, reach, requester)
    configuration = await directory.configuration(handler) if handler is not None else None
    staff: tuple[StaffRecord, ...] = ()
    if handler is not None and configuration is not None and _routes_to_staff(configuration):
        staff = await directory.staff_of(handler)
    return OpeningFacts(requester=requester, ancestors=ancestors, configuration=configuration, staff=staff)


def _routes_to_staff(configuration: Configuration) -> bool:
    """Whether a new ticket of this organisation may go to a member of its staff (a category's assignee, a
    department's turn): only then are its staff looked up."""
    return any(d.round_robin for d in configuration.departments) or any(
        c.assignee_id is not None for c in configuration.categories
    )
