from hostdesk_contracts import subjects as headers
from hostdesk_contracts.base import Role
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.adapters.ports import DeadLetter

from .serving import TENANT, Api


def letter_of(api: Api, event: TicketEvent, *, signed: bool = True, error: str = "behind its ticket") -> DeadLetter:
    """The message of ``event`` as the relay published it (signed, unless told otherwise), set aside."""
    settings = api.app.state.settings
    subject = settings.subjects.event(event.tenant, event)
    data = event.model_dump_json().encode()
    names = {
        headers.MSG_ID: str(event.event_id),
        headers.TICKET_ID: str(event.ticket_id),
        headers.TICKET_VERSION: str(event.version),
        headers.EVENT_TYPE: type(event).model_fields["type"].default,
    }
    kept = settings.event_signer().signed(subject, names, data) if signed else names
    return DeadLetter(subject=subject, data=data, headers=kept, error=error, stream_seq=7, deliveries=10)


async def test_the_provider_replays_an_event_set_aside_once_its_ticket_has_caught_up(api: Api) -> None:
    customer, agent, supervisor = account(TENANT), account(TENANT, Role.AGENT), account(TENANT, Role.SUPERVISOR)
    story = TicketStory(customer)
    opening, reply = story.opened(), story.reply(agent, "Fixed.")
    await api.store.keep_dead_letters([letter_of(api, reply), letter_of(api, reply, signed=False)])

    listed = (await api.get("/v1/dead-letters", supervisor)).json()
    waiting = await api.client.post(
        f"/v1/dead-letters/{listed[1]['id']}/replay", headers=api.callers.bearer(supervisor)
    )
    await api.apply(opening)
    applied = await api.client.post(
        f"/v1/dead-letters/{listed[1]['id']}/replay", headers=api.callers.bearer(supervisor)
    )
    forged = await api.client.post(f"/v1/dead-letters/{listed[0]['id']}/replay", headers=api.callers.bearer(supervisor))
    left = (await api.get("/v1/dead-letters", supervisor)).json()

    assert [(item["ticket_id"], item["event_type"]) for item in listed] == [
        (str(story.ticket_id), "ticket.reply_posted.v1")
    ] * 2
    assert waiting.json()["outcome"] == "waiting"
    assert applied.json() == {"outcome": "applied", "error": None}
    assert forged.json()["outcome"] == "undecodable"
    assert [item["id"] for item in left] == [listed[0]["id"]]
    assert api.store.tickets[story.ticket_id].version == 2


async def test_only_the_providers_operators_see_the_events_set_aside_and_only_their_tenants(api: Api) -> None:
    elsewhere = TicketStory(account("elsewhere"))
    await api.store.keep_dead_letters([letter_of(api, elsewhere.opened())])

    for caller in (account(TENANT), account(TENANT, Role.AGENT)):
        assert (await api.get("/v1/dead-letters", caller)).status_code == 403
    assert (await api.get("/v1/dead-letters", account(TENANT, Role.SUPERVISOR))).json() == []
    missing = await api.client.post(
        "/v1/dead-letters/1/replay", headers=api.callers.bearer(account(TENANT, Role.SUPERVISOR))
    )
    assert missing.status_code == 404
