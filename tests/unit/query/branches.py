"""One provider's tree, its tickets addressed up and down it, and who sees which for which side (SPEC section 1):
the scenario the visibility tests of query and notify share.

    provider (its account and an agent)
    ├── reseller (its account and an agent)
    │   ├── customer ── subaccount
    │   └── neighbour
    └── other reseller (an agent)
        └── stranger

Tickets: the reseller asks the provider, the customer asks the reseller, the subaccount asks the customer, the
neighbour asks the reseller, the stranger asks the other reseller. Each carries a tag, an internal note of its
handling side and a public answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hostdesk_contracts.base import Actor, Role, Side, Visibility
from hostdesk_contracts.events import TicketEvent, TicketOpened
from hostdesk_devtools.stories import TicketStory

TAG = "branch-tag"
NOTE = "Internal: the handling side's own note."
ANSWER = "Public: we are on it."

CALLERS = (
    "provider",
    "provider_agent",
    "reseller",
    "reseller_agent",
    "customer",
    "subaccount",
    "neighbour",
    "stranger",
    "other_agent",
)
TICKETS = ("to_provider", "to_reseller", "to_customer", "neighbours", "elsewhere")
H, R = Side.HANDLER, Side.REQUESTER
# Who reads which ticket, and for which side; every other ticket answers as if it did not exist.
SIDES: dict[str, dict[str, Side]] = {
    "provider": {"to_provider": H},
    "provider_agent": {"to_provider": H},
    "reseller": {"to_provider": R, "to_reseller": H, "neighbours": H},
    "reseller_agent": {"to_reseller": H, "neighbours": H},
    "customer": {"to_reseller": R, "to_customer": H},
    "subaccount": {"to_customer": R},
    "neighbour": {"neighbours": R},
    "stranger": {"elsewhere": R},
    "other_agent": {"elsewhere": H},
}


@dataclass(frozen=True)
class Tree:
    tenant: str
    reseller_id: str
    other_reseller_id: str
    actors: dict[str, Actor]

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]


def tree(tenant: str) -> Tree:
    """The tree's callers, each with an id of its own (the provider's is its tenant, as the directory has it)."""
    suffix = uuid.uuid4().hex[:6]
    reseller, other = f"reseller-{suffix}", f"reseller-b-{suffix}"

    def named(name: str, role: Role, organisation_id: str | None = None, account_id: str | None = None) -> Actor:
        own = account_id or f"{name.replace('_', '-')}-{suffix}"
        return Actor(
            account_id=own,
            tenant=tenant,
            role=role,
            display_name=name,
            email=f"{own}@example.net",
            organisation_id=organisation_id,
        )

    actors = {
        "provider": named("provider", Role.PROVIDER, account_id=tenant),
        "provider_agent": named("provider_agent", Role.AGENT, tenant),
        "reseller": named("reseller", Role.RESELLER, account_id=reseller),
        "reseller_agent": named("reseller_agent", Role.AGENT, reseller),
        "customer": named("customer", Role.CUSTOMER),
        "subaccount": named("subaccount", Role.SUBACCOUNT),
        "neighbour": named("neighbour", Role.CUSTOMER),
        "stranger": named("stranger", Role.CUSTOMER),
        "other_agent": named("other_agent", Role.AGENT, other),
    }
    return Tree(tenant=tenant, reseller_id=reseller, other_reseller_id=other, actors=actors)


@dataclass(frozen=True)
class Ticket:
    story: TicketStory
    handler: Actor  # who answers it: its handling side
    events: tuple[TicketEvent, ...]


def addressed(requester: Actor, handling_organisation_id: str, handler: Actor) -> Ticket:
    """A ticket ``requester`` addresses to ``handling_organisation_id``, tagged, with an internal note and a public
    answer of ``handler``, each recorded as its handling side's."""
    story = TicketStory(requester)
    opened = story.opened(tags=(TAG,)).model_copy(update={"handling_organisation_id": handling_organisation_id})
    note = story.reply(handler, NOTE, visibility=Visibility.INTERNAL).model_copy(update={"side": Side.HANDLER})
    answer = story.reply(handler, ANSWER).model_copy(update={"side": Side.HANDLER})
    return Ticket(story=story, handler=handler, events=(opened, note, answer))


def tickets_of(branches: Tree) -> dict[str, Ticket]:
    return {
        "to_provider": addressed(branches["reseller"], branches.tenant, branches["provider_agent"]),
        "to_reseller": addressed(branches["customer"], branches.reseller_id, branches["reseller_agent"]),
        "to_customer": addressed(branches["subaccount"], branches["customer"].account_id, branches["customer"]),
        "neighbours": addressed(branches["neighbour"], branches.reseller_id, branches["reseller_agent"]),
        "elsewhere": addressed(branches["stranger"], branches.other_reseller_id, branches["other_agent"]),
    }


def opening(ticket: Ticket) -> TicketOpened:
    event = ticket.events[0]
    assert isinstance(event, TicketOpened)
    return event
