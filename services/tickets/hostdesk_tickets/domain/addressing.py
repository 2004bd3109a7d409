"""Where a ticket goes, and whom the directory lets take part in it (SPEC section 1).

Pure: the service layer looks the records up (``service_layer.lookups``) and these rules decide with what they
are given. Every refusal is ``invalid`` naming the command's field at fault, so a caller is told what to change.

Opening a ticket
- The requester is the caller (an account: staff never request), or the account ``requester_id`` names when the
  handling side opens a ticket to an account below it: the caller must handle for one of that account's
  ancestors (staff of that organisation, or the organisation's own account). The ticket is then addressed to the
  caller's organisation and starts ``answered``, waiting for the requester.
- It is addressed to ``handling_organisation_id``, or to the requester's parent: always one of its ancestors.
- Its department and category are the handling organisation's, not retired; a category may be closed to
  subaccounts, and may name the department (when none is given) and the assignee its tickets go to. A department
  that takes turns (``round_robin``) gives a ticket nobody else is named for to its next available agent.
- Its related service is one of the requester's own.
- An unknown or disabled requester or handling organisation is refused.

Later commands: an assignee is staff of the ticket's handling organisation, not disabled; a department or category
set later is one of that organisation's, not retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Actor, Assignee, Role, Side, Status
from hostdesk_contracts.commands import OpenTicket
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    Category,
    Configuration,
    Department,
    StaffRecord,
    StaffRole,
)

from hostdesk_tickets.domain.errors import InvalidCommand

N = TypeVar("N", Department, Category)


@dataclass(frozen=True, slots=True)
class OpeningFacts:
    """What the directory says about an open, as the service layer found it: the requester's record and its
    ancestors (parent first), and the handling organisation's configuration and staff (by id)."""

    requester: AccountRecord | StaffRecord | None
    ancestors: tuple[AccountRecord, ...] = ()
    configuration: Configuration | None = None
    staff: tuple[StaffRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class Turns:
    """A department whose new tickets go to its agents in turn: the organisation, the department, and its
    available agents in id order. The service layer draws the turn and ``Opening.in_turn`` applies it."""

    organisation_id: str
    department: str
    agents: tuple[StaffRecord, ...]

    def agent_at(self, turn: int) -> StaffRecord:
        """The agent of turn ``turn`` (1, 2, 3...): the agents one after the other, round and round."""
        return self.agents[(turn - 1) % len(self.agents)]


@dataclass(frozen=True, slots=True)
class Opening:
    """An open admitted: who requests, which side opens it, where it goes, and to whom it is assigned."""

    requester: Actor
    side: Side
    handling_organisation_id: str
    department: str | None
    category: str | None
    assignee: Assignee | None = None
    turns: Turns | None = field(default=None)  # set when the ticket waits for its department's next agent

    @property
    def status(self) -> Status:
        """A ticket the handling side opens waits for its requester; any other waits for the support team."""
        return Status.ANSWERED if self.side is Side.HANDLER else Status.OPEN

    def in_turn(self, turn: int) -> Opening:
        """The opening assigned to the agent of ``turn`` of its department."""
        if self.turns is None:
            return self
        agent = self.turns.agent_at(turn)
        return Opening(
            requester=self.requester,
            side=self.side,
            handling_organisation_id=self.handling_organisation_id,
            department=self.department,
            category=self.category,
            assignee=assignee_of(agent),
        )


def requester_id_of(command: OpenTicket) -> str:
    """The account an open is for: the one it names, or its caller."""
    return command.requester_id or command.actor.account_id


def opened_by_handler(command: OpenTicket) -> bool:
    """Whether the open names an account other than its caller: the handling side opening to it."""
    return command.requester_id is not None and command.requester_id != command.actor.account_id


def addressed_to(command: OpenTicket, reach: Reach, requester: AccountRecord | StaffRecord | None) -> str | None:
    """The organisation an open is addressed to, before any check: the one it names, the caller's own when the
    handling side opens it, else the requester's parent."""
    if command.handling_organisation_id is not None:
        return command.handling_organisation_id
    if opened_by_handler(command):
        return reach.handles
    return requester.parent_id if isinstance(requester, AccountRecord) else None


def admit_opening(command: OpenTicket, reach: Reach, facts: OpeningFacts) -> Opening:
    """The open as the directory allows it, or ``InvalidCommand`` naming the field at fault."""
    requester = _requester(command, reach, facts)
    handler = _handler(command, reach, requester, facts)
    configuration = facts.configuration
    if configuration is not None and configuration.organisation_id != handler:
        configuration = None  # another organisation's: none of its names count here
    category = _category(command.category, configuration, requester)
    department = command.department or (category.department if category else None)
    if department is not None:
        named = "department" if command.department is not None else "category"
        _department(department, configuration, field=named)
    _related_service(command.related_service, requester)
    assignee = _category_assignee(category, handler, facts.staff)
    turns = None if assignee is not None else _turns(department, handler, configuration, facts.staff)
    return Opening(
        requester=_as_actor(requester, tenant=command.actor.tenant) if opened_by_handler(command) else command.actor,
        side=Side.HANDLER if opened_by_handler(command) else Side.REQUESTER,
        handling_organisation_id=handler,
        department=department,
        category=category.name if category else command.category,
        assignee=assignee,
        turns=turns,
    )


def check_assignee(record: AccountRecord | StaffRecord | None, *, assignee_id: str, handler: str) -> Assignee:
    """The assignee as the directory names it: staff of the handling organisation ``handler``, not disabled."""
    if not isinstance(record, StaffRecord) or record.organisation_id != handler or record.disabled:
        raise _invalid(
            f"{assignee_id!r} is not a member of the support staff of {handler} who may take tickets.", "assignee"
        )
    return assignee_of(record)


def check_department(name: str, configuration: Configuration | None, *, handler: str) -> None:
    """A department a ticket is transferred to: one of the handling organisation's, not retired."""
    _department(name, _own(configuration, handler), field="department")


def check_category(name: str, configuration: Configuration | None, *, handler: str) -> None:
    """A category a ticket is put in: one of the handling organisation's."""
    configuration = _own(configuration, handler)
    if _find(configuration.categories if configuration else (), name) is None:
        raise _invalid(f"{handler} has no category {name!r}.", "category")


def assignee_of(staff: StaffRecord) -> Assignee:
    return Assignee(account_id=staff.id, display_name=staff.display_name or None, email=staff.email)


# -- the rules of an open ------------------------------------------------------------------------------------


def _requester(command: OpenTicket, reach: Reach, facts: OpeningFacts) -> AccountRecord:
    actor = command.actor
    if command.requester_id is None and (actor.role.is_staff or actor.role is Role.SYSTEM):
        raise _invalid(
            "Staff open a ticket to an account below their organisation: name it in requester_id.", "requester_id"
        )
    record = facts.requester
    if not isinstance(record, AccountRecord) or record.disabled:
        raise _invalid(f"There is no account {requester_id_of(command)!r} that may request support.", "requester_id")
    if opened_by_handler(command) and reach.handles not in {ancestor.id for ancestor in facts.ancestors}:
        raise _invalid(f"{record.id!r} is not an account below an organisation you handle tickets for.", "requester_id")
    return record


def _handler(command: OpenTicket, reach: Reach, requester: AccountRecord, facts: OpeningFacts) -> str:
    handler = addressed_to(command, reach, requester)
    if opened_by_handler(command) and handler != reach.handles:
        raise _invalid(
            "A ticket the support team opens is addressed to its own organisation.", "handling_organisation_id"
        )
    ancestor = next((a for a in facts.ancestors if a.id == handler), None)
    if ancestor is None or handler is None:
        raise _invalid(
            f"A ticket of {requester.id!r} is addressed to one of the organisations above it, not {handler!r}.",
            "handling_organisation_id",
        )
    if ancestor.disabled or not ancestor.kind.handles:
        raise _invalid(f"{handler!r} takes no tickets.", "handling_organisation_id")
    return handler


def _category(name: str | None, configuration: Configuration | None, requester: AccountRecord) -> Category | None:
    if name is None:
        return None
    category = _find(configuration.categories if configuration else (), name)
    if category is None:
        raise _invalid(f"The support team has no category {name!r}.", "category")
    if requester.kind is AccountKind.SUBACCOUNT and not category.for_subaccounts:
        raise _invalid(f"The category {name!r} is not open to subaccounts.", "category")
    return category


def _department(name: str, configuration: Configuration | None, *, field: str) -> Department:
    department = _find(configuration.departments if configuration else (), name)
    if department is None:
        raise _invalid(f"The support team has no department {name!r}.", field)
    if department.retired:
        raise _invalid(f"The department {name!r} is retired and takes no new tickets.", field)
    return department


def _related_service(service_id: str | None, requester: AccountRecord) -> None:
    if service_id is not None and service_id not in {service.id for service in requester.services}:
        raise _invalid(f"{service_id!r} is not one of the requester's services.", "related_service")


def _category_assignee(category: Category | None, handler: str, staff: Sequence[StaffRecord]) -> Assignee | None:
    """The staff member the category sends its tickets to, while they may take them (a category naming someone
    who left or was disabled opens the ticket unassigned, or in turn: the customer's ticket is never refused for
    the support team's set-up)."""
    if category is None or category.assignee_id is None:
        return None
    member = next((s for s in staff if s.id == category.assignee_id), None)
    if member is None or member.organisation_id != handler or member.disabled:
        return None
    return assignee_of(member)


def _turns(
    department: str | None, handler: str, configuration: Configuration | None, staff: Sequence[StaffRecord]
) -> Turns | None:
    if department is None or configuration is None:
        return None
    named = _find(configuration.departments, department)
    if named is None or not named.round_robin:
        return None
    agents = tuple(
        sorted(
            (
                member
                for member in staff
                if member.organisation_id == handler
                and member.role is StaffRole.AGENT
                and department in member.departments
                and not member.disabled
            ),
            key=lambda member: member.id,
        )
    )
    return Turns(organisation_id=handler, department=department, agents=agents) if agents else None


def _as_actor(record: AccountRecord, *, tenant: str) -> Actor:
    return Actor(
        account_id=record.id,
        tenant=tenant,
        role=Role(record.kind.value),
        display_name=record.display_name or None,
        email=record.email,
    )


def _own(configuration: Configuration | None, handler: str) -> Configuration | None:
    return configuration if configuration is not None and configuration.organisation_id == handler else None


def _find(named: Sequence[N], name: str) -> N | None:
    return next((each for each in named if each.name == name), None)


def _invalid(detail: str, field: str) -> InvalidCommand:
    return InvalidCommand(detail, field=field, current_status=Status.OPEN, current_version=None)
