"""The query parameters that narrow a list of tickets, read once for every route that lists or counts them
(``domain.listing.TicketFilter``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from hostdesk_contracts.base import Channel, Priority, Status
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.directory import Directory
from hostdesk_contracts.runtime.text import refuse_unstorable
from pydantic import AfterValidator, AwareDatetime

from hostdesk_query.api.deps import ReachDep
from hostdesk_query.domain.listing import ASSIGNED_TO_SOMEONE, AssignedTo, Period, TicketFilter

# Text that reaches PostgreSQL as text: a NUL, which it cannot hold, is a 422 naming the parameter, not a 500.
StorableText = Annotated[str, AfterValidator(refuse_unstorable)]
Name = Annotated[StorableText, Query(min_length=1, max_length=200)]

_ASSIGNEE_HELP = (
    "Only the handling side: ``me`` (tickets assigned to the caller), ``none`` (unassigned tickets), ``anyone``"
    " (assigned to someone) or an account id. The list then holds only tickets the caller handles, none it"
    " requested."
)
_TAG_HELP = "Only tickets carrying every tag given (repeatable). The handling side's own, as ``assignee``."
_ORGANISATION_HELP = (
    "Only tickets requested by this account or one of its subaccounts (a customer organisation's tickets)."
)


def invalid(parameter: str, message: str, given: object) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", parameter), "msg": message, "input": given}]
    )


def _assigned_to(text: str | None, *, caller: str, handling: bool) -> AssignedTo | None:
    """``handling``: the caller handles tickets for some organisation (``Reach.handles``)."""
    if text is None:
        return None
    if not handling:
        # Assignment is the handling side's own: filtering on it would tell the requester what it may not see.
        raise invalid("assignee", "only the handling side filters on the assignee", text)
    if text == "me":
        return AssignedTo(caller)
    if text == "anyone":
        return ASSIGNED_TO_SOMEONE
    return AssignedTo(None if text == "none" else text)


def _period(parameter: str, since: datetime | None, until: datetime | None) -> Period:
    if since is not None and until is not None and until <= since:
        raise invalid(f"{parameter}_until", f"{parameter}_until must come after {parameter}_since", until.isoformat())
    return Period(since=since, until=until)


async def _requesters(
    directory: Directory | None, requester: str | None, organisation: str | None
) -> frozenset[str] | None:
    """The accounts whose tickets ``requester`` and ``organisation`` keep (both given: those both keep)."""
    kept: frozenset[str] | None = None if requester is None else frozenset({requester})
    if organisation is not None:
        children = () if directory is None else await directory.children_of(organisation)
        branch = frozenset({organisation, *(child.id for child in children)})
        kept = branch if kept is None else kept & branch
    return kept


async def ticket_filter(
    request: Request,
    reach: ReachDep,
    actor: ActorDep,
    status: Annotated[list[Status] | None, Query(description="Only tickets in these statuses (repeatable).")] = None,
    priority: Annotated[
        list[Priority] | None, Query(description="Only tickets of these priorities (repeatable).")
    ] = None,
    archived: Annotated[
        bool | None, Query(description="Only archived tickets (true) or only the others (false); absent: both.")
    ] = None,
    assignee: Annotated[StorableText | None, Query(min_length=1, max_length=200, description=_ASSIGNEE_HELP)] = None,
    department: Annotated[list[Name] | None, Query(description="Only tickets of these departments.")] = None,
    category: Annotated[list[Name] | None, Query(description="Only tickets of these categories.")] = None,
    requester: Annotated[Name | None, Query(description="Only tickets this account requested.")] = None,
    organisation: Annotated[Name | None, Query(description=_ORGANISATION_HELP)] = None,
    tag: Annotated[list[Name] | None, Query(description=_TAG_HELP)] = None,
    channel: Annotated[list[Channel] | None, Query(description="Only tickets opened through these channels.")] = None,
    created_since: Annotated[AwareDatetime | None, Query(description="Only tickets created at or after.")] = None,
    created_until: Annotated[AwareDatetime | None, Query(description="Only tickets created before.")] = None,
    updated_since: Annotated[AwareDatetime | None, Query(description="Only tickets updated at or after.")] = None,
    updated_until: Annotated[AwareDatetime | None, Query(description="Only tickets updated before.")] = None,
) -> TicketFilter:
    handling = reach.handles is not None or reach.everything
    if tag and not handling:
        raise invalid("tag", "only the handling side filters on tags", tag)
    directory: Directory | None = getattr(request.app.state, "directory", None)
    return TicketFilter(
        statuses=frozenset(status or ()),
        priorities=frozenset(priority or ()),
        archived=archived,
        assignee=_assigned_to(assignee, caller=actor.account_id, handling=handling),
        departments=frozenset(department or ()),
        categories=frozenset(category or ()),
        requesters=await _requesters(directory, requester, organisation),
        tags=frozenset(tag or ()),
        channels=frozenset(channel or ()),
        created=_period("created", created_since, created_until),
        updated=_period("updated", updated_since, updated_until),
    )


TicketFilterDep = Annotated[TicketFilter, Depends(ticket_filter)]
