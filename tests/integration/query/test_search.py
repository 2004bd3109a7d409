"""Quick search on PostgreSQL: English and French stemming, accents folded, prefixes while typing, ranking,
marked passages, numbers and addresses, and text that is anything but a query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Actor, Role, Visibility
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.domain.listing import TicketFilter
from hostdesk_query.domain.projection import change_of
from hostdesk_query.domain.search import NothingToSearch, SearchKind, SearchResult, search_of

START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


async def apply(read_model: PostgresReadModel, *events: TicketEvent) -> None:
    await read_model.apply([change_of(event) for event in events])  # type: ignore[arg-type]


async def searched(read_model: PostgresReadModel, caller: Actor, text: str, limit: int = 20) -> SearchResult:
    return await read_model.search_tickets(reach_of(caller), search_of(text), filters=TicketFilter(), limit=limit)


def ids(result: SearchResult) -> list[object]:
    return [hit.ticket.ticket_id for hit in result.hits]


def opened(customer: Actor, subject: str, body: str, hours: int = 0) -> tuple[TicketStory, TicketEvent]:
    story = TicketStory(customer, start=START + timedelta(hours=hours))
    return story, story.opened(subject=subject, body=body)


async def test_english_words_are_found_by_their_stem_and_the_last_one_by_its_start(
    read_model: PostgresReadModel, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story, opening = opened(customer, "The VPS is down", "It stopped responding after the kernel upgrade.")
    await apply(read_model, opening)

    for text in ("responds", "kernel upgrades", "kernel upgr", "VPS", "stopping"):
        assert ids(await searched(read_model, agent, text)) == [story.ticket_id], text
    assert ids(await searched(read_model, agent, "kernel upgr ")) == []  # a space after it: a whole word
    assert ids(await searched(read_model, agent, "kernel panic")) == []  # every word must be found


async def test_french_words_are_stemmed_in_french_and_found_without_their_accents(
    read_model: PostgresReadModel, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story, opening = opened(
        customer, "Mon hébergement ne répond plus", "Bonjour, les sites hébergés renvoient une erreur depuis ce matin."
    )
    await apply(read_model, opening)

    for text in ("hebergement", "Hébergements", "héberg", "erreurs", "repond", "site hebergé"):
        assert ids(await searched(read_model, agent, text)) == [story.ticket_id], text
    result = await searched(read_model, customer, "erreur")
    assert result.hits[0].snippet_html is not None
    assert "<mark>erreur</mark>" in result.hits[0].snippet_html


async def test_the_subject_ranks_first_and_passages_mark_the_words_escaped(
    read_model: PostgresReadModel, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    in_post, in_subject = (
        opened(customer, "Invoice question", "Our mailbox quota is full & 5 < 6 <script>alert(1)</script>", hours=2),
        opened(customer, "Mailbox quota", "Please raise it.", hours=1),
    )
    await apply(read_model, in_post[1], in_subject[1])

    result = await searched(read_model, agent, "quota")

    assert ids(result) == [in_subject[0].ticket_id, in_post[0].ticket_id]  # the older one, by its subject
    assert result.hits[0].subject_html == "Mailbox <mark>quota</mark>"
    snippet = result.hits[1].snippet_html
    assert snippet is not None
    assert "<mark>quota</mark>" in snippet
    assert "<script>" not in snippet
    assert "full &amp; 5 &lt; 6" in snippet


async def test_internal_notes_are_found_and_shown_to_the_handling_side_only(
    read_model: PostgresReadModel, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story, opening = opened(customer, "Backups missing", "Last night's backup is not there.")
    note = story.reply(agent, "The backup host ran out of disk: zanzibar volume.", visibility=Visibility.INTERNAL)
    reply = story.reply(agent, "We are restoring the backup now.")
    await apply(read_model, opening, note, reply)

    assert ids(await searched(read_model, customer, "zanzibar")) == []
    assert ids(await searched(read_model, agent, "zanzibar")) == [story.ticket_id]
    customer_hit = (await searched(read_model, customer, "backup host")).hits
    assert customer_hit == ()  # "host" is in the note only: not for the customer
    (hit,) = (await searched(read_model, customer, "backup")).hits
    assert hit.snippet_html is not None
    assert "disk" not in hit.snippet_html


async def test_a_number_goes_to_its_ticket_and_an_address_finds_requester_and_copies(
    read_model: PostgresReadModel, tenant: str
) -> None:
    customer = account(tenant)
    agent, other = account(tenant, Role.AGENT), account(tenant)
    first, second = TicketStory(customer, number=482913), TicketStory(other, start=START + timedelta(hours=1))
    await apply(
        read_model,
        first.opened(cc=("Boss@Example.net",)),
        second.opened(subject="Ticket 482913 again", cc=()),
    )

    by_number = await searched(read_model, agent, "#482913")
    assert (by_number.kind, ids(by_number)) == (SearchKind.NUMBER, [first.ticket_id])
    # Not the other customer's ticket for that customer; a bare number then searches its words (none: #482913).
    assert ids(await searched(read_model, other, "#482913")) == []
    assert ids(await searched(read_model, other, "482913")) == [second.ticket_id]
    assert customer.email is not None
    for address in (customer.email.upper(), "boss@example.net", "Boss@Example.net"):
        result = await searched(read_model, agent, address)
        assert (result.kind, ids(result)) == (SearchKind.EMAIL, [first.ticket_id]), address
    assert ids(await searched(read_model, other, "boss@example.net")) == []


async def test_the_newest_matches_are_ranked_and_more_says_when_others_are_left(
    read_model: PostgresReadModel, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    made = [opened(customer, f"Outage {n}", "The whole rack is down.", hours=n) for n in range(5)]
    await apply(read_model, *(event for _, event in made))

    result = await searched(read_model, agent, "rack", limit=3)

    assert ids(result) == [story.ticket_id for story, _ in reversed(made)][:3]  # equal ranks: the newest first
    assert result.more


@pytest.mark.parametrize(
    "text",
    [
        "²",
        "½ ¾",
        "٣٤",
        "Ⅻ",
        "a:b",
        "'",
        "&|!",
        "x" * 300,
        "日本語のメール",
        "🙂 vps",
        "ǅ ß İstanbul",
        "e\u0301té",
        "\u200b",
        "((",
        "\\",
        "le la les",
        "the",
        "1 2 3 4 5 6 7 8 9 10",
        "vps-1042",
        "#0",
        "a@b.c",
        "@@",
    ],
)
async def test_any_text_is_searched_or_refused_never_an_error(
    read_model: PostgresReadModel, tenant: str, text: str
) -> None:
    customer = account(tenant)
    story, opening = opened(customer, "The VPS is down", "vps-1042 stopped answering.")
    await apply(read_model, opening)
    try:
        search_of(text)
    except NothingToSearch:
        return
    for caller in (customer, account(tenant, Role.AGENT)):
        result = await searched(read_model, caller, text)
        assert set(ids(result)) <= {story.ticket_id}
