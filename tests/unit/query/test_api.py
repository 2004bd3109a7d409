import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hostdesk_contracts.base import Actor, Priority, Role, Status, Visibility
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.settings import Settings

from tests.support import principal_records

from .serving import TENANT, Api


async def opened_tickets(api: Api, requester: Actor, count: int) -> list[TicketStory]:
    stories = [TicketStory(requester) for _ in range(count)]
    await api.apply(*(story.opened(subject=f"Ticket {i}") for i, story in enumerate(stories)))
    return stories


async def test_a_customer_lists_only_the_tickets_it_requested(api: Api) -> None:
    customer, other = account(TENANT), account(TENANT)
    mine = await opened_tickets(api, customer, 2)
    await opened_tickets(api, other, 2)

    response = await api.get("/v1/tickets", customer)

    assert response.status_code == 200
    assert {item["ticket_id"] for item in response.json()["items"]} == {str(s.ticket_id) for s in mine}


async def test_staff_list_every_ticket_of_their_tenant_most_recently_updated_first(api: Api) -> None:
    first, second = await opened_tickets(api, account(TENANT), 1), await opened_tickets(api, account(TENANT), 1)
    await opened_tickets(api, account("elsewhere"), 1)
    await api.apply(first[0].reply(account(TENANT, Role.AGENT)))

    response = await api.get("/v1/tickets", account(TENANT, Role.AGENT))

    items = response.json()["items"]
    assert [item["ticket_id"] for item in items[:1]] == [str(first[0].ticket_id)]
    assert {item["ticket_id"] for item in items} == {str(first[0].ticket_id), str(second[0].ticket_id)}


async def test_pages_follow_one_another_until_the_last_one(api: Api) -> None:
    customer = account(TENANT)
    stories = await opened_tickets(api, customer, 5)

    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/v1/tickets", customer, **params)).json()
        seen += [item["ticket_id"] for item in page["items"]]
        cursor = page["next_cursor"]

    assert cursor is None
    assert sorted(seen) == sorted(str(s.ticket_id) for s in stories)
    assert len(seen) == 5


async def test_the_list_filters_on_any_of_several_statuses(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    _, held, closed = await opened_tickets(api, customer, 3)
    await api.apply(held.status_change(agent, Status.ON_HOLD), closed.close(agent))

    response = await api.get("/v1/tickets", customer, status=["on_hold", "closed"])

    assert {item["status"] for item in response.json()["items"]} == {"on_hold", "closed"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"status": "lost"}, "status"), ({"cursor": "xyz"}, "cursor")],
)
async def test_invalid_list_parameters_answer_a_problem_naming_them(
    api: Api, params: dict[str, object], field: str
) -> None:
    response = await api.get("/v1/tickets", account(TENANT), **params)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [param["name"].split(".")[0] for param in response.json()["invalid-params"]]


async def test_a_request_without_a_token_is_unauthorized(api: Api) -> None:
    response = await api.client.get("/v1/tickets")

    assert response.status_code == 401


async def test_a_ticket_comes_with_its_timeline_oldest_first(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    story = TicketStory(customer)
    await api.apply(story.opened(), story.reply(agent, "Rebooted."), story.status_change(agent, Status.ANSWERED))

    ticket = (await api.get(f"/v1/tickets/{story.ticket_id}", customer)).json()

    assert (ticket["version"], ticket["status"]) == (3, "answered")
    assert [entry["kind"] for entry in ticket["timeline"]] == ["opened", "post", "status_changed"]
    assert ticket["timeline"][1]["actor"]["account_id"] == agent.account_id


async def test_the_timeline_can_come_newest_first(api: Api) -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    await api.apply(story.opened(), story.reply(customer, "Any news?"))

    ticket = (await api.get(f"/v1/tickets/{story.ticket_id}", customer, order="desc")).json()

    assert [entry["position"] for entry in ticket["timeline"]] == [2, 1]


async def test_another_customers_ticket_answers_exactly_like_a_missing_one(api: Api) -> None:
    owner, stranger = account(TENANT), account(TENANT)
    (story,) = await opened_tickets(api, owner, 1)
    missing = uuid.uuid4()

    hidden = await api.get(f"/v1/tickets/{story.ticket_id}", stranger)
    absent = await api.get(f"/v1/tickets/{missing}", stranger)

    assert hidden.status_code == absent.status_code == 404
    assert hidden.text.replace(str(story.ticket_id), "<id>") == absent.text.replace(str(missing), "<id>")


async def test_the_requester_never_sees_internal_notes(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    story = TicketStory(customer)
    await api.apply(story.opened(), story.reply(agent, "Customer is on the old plan.", visibility=Visibility.INTERNAL))

    for_customer = (await api.get(f"/v1/tickets/{story.ticket_id}", customer)).json()
    for_staff = (await api.get(f"/v1/tickets/{story.ticket_id}", agent)).json()

    assert [entry["kind"] for entry in for_customer["timeline"]] == ["opened"]
    assert [entry["visibility"] for entry in for_staff["timeline"]] == ["public", "internal"]


async def test_asking_for_a_version_not_there_yet_waits_for_it(api: Api) -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    await api.apply(story.opened())
    reply = story.reply(customer, "Still down.")

    request = asyncio.create_task(api.get(f"/v1/tickets/{story.ticket_id}", customer, min_version=2))
    await asyncio.wait_for(api.notices.someone_watches.wait(), timeout=5)
    await api.apply(reply)
    response = await request

    assert response.json()["version"] == 2


async def test_asking_for_a_version_never_reached_answers_what_is_there_once_the_wait_is_over(api: Api) -> None:
    customer = account(TENANT)
    (story,) = await opened_tickets(api, customer, 1)

    response = await api.get(f"/v1/tickets/{story.ticket_id}", customer, min_version=5)

    assert response.status_code == 200
    assert response.json()["version"] == 1


async def test_asking_for_a_version_of_a_ticket_that_never_appears_answers_404(api: Api) -> None:
    response = await api.get(f"/v1/tickets/{uuid.uuid4()}", account(TENANT), min_version=1)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"min_version": 0},
        {"order": "sideways"},
        {"timeline_limit": 0},
        {"timeline_limit": 201},
        {"timeline_cursor": "xyz"},
    ],
)
async def test_invalid_ticket_parameters_answer_422(api: Api, params: dict[str, object]) -> None:
    response = await api.get(f"/v1/tickets/{uuid.uuid4()}", account(TENANT), **params)

    assert response.status_code == 422


async def test_readiness_names_what_does_not_answer(api: Api) -> None:
    api.store.answering = False

    response = await api.client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["reasons"] == ["PostgreSQL does not answer"]


async def test_readiness_lists_every_reason_nats_away_and_the_consumer_stopped_included(api: Api) -> None:
    async def consume() -> None:
        return None

    api.runtime.tasks = (asyncio.create_task(consume(), name="consumer"),)
    await api.runtime.tasks[0]
    api.store.answering = False
    api.nats.is_connected = False

    response = await api.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["reasons"] == [
        "PostgreSQL does not answer",
        "NATS is not connected",
        "the consumer has stopped",
    ]


async def test_readiness_answers_200_while_everything_runs(api: Api) -> None:
    response = await api.client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["reasons"] == []


async def test_a_body_over_the_services_limit_answers_413_before_it_is_read(api: Api) -> None:
    limit = Settings.model_fields["max_body_bytes"].default

    response = await api.client.request("GET", "/v1/tickets", content=b"x" * (limit + 1))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_list_comes_in_each_order_page_after_page(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    low, urgent, plain = (TicketStory(customer, start=start + timedelta(hours=hour)) for hour in range(3))
    await api.apply(low.opened(), urgent.opened(), plain.opened())
    await api.apply(low.priority_change(agent, Priority.LOW), urgent.priority_change(agent, Priority.URGENT))

    def numbers(items: list[dict[str, object]]) -> list[object]:
        return [item["ticket_id"] for item in items]

    for order, expected in (("priority", [urgent, plain, low]), ("created", [plain, urgent, low])):
        first = (await api.get("/v1/tickets", agent, order=order, limit=2)).json()
        rest = (await api.get("/v1/tickets", agent, order=order, limit=2, cursor=first["next_cursor"])).json()
        assert numbers(first["items"] + rest["items"]) == [str(s.ticket_id) for s in expected], order
        assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("caller_role", "params", "field"),
    [
        (Role.SUBACCOUNT, {"assignee": "me"}, "assignee"),
        (Role.SUBACCOUNT, {"tag": "vip"}, "tag"),
        (
            Role.AGENT,
            {"created_since": "2026-03-02T00:00:00Z", "created_until": "2026-03-01T00:00:00Z"},
            "created_until",
        ),
        (Role.AGENT, {"updated_since": "2026-03-01T00:00:00"}, "updated_since"),  # no time zone: which moment?
        (Role.AGENT, {"channel": "fax"}, "channel"),
        (Role.AGENT, {"order": "loudest"}, "order"),
        (Role.AGENT, {"department": ""}, "department"),
        (Role.AGENT, {"requester": "a\x00b"}, "requester"),
    ],
)
async def test_list_parameters_out_of_bounds_answer_a_problem_naming_them(
    api: Api, caller_role: Role, params: dict[str, object], field: str
) -> None:
    response = await api.get("/v1/tickets", account(TENANT, caller_role), **params)

    assert response.status_code == 422, response.text
    assert field in [param["name"].split(".")[0] for param in response.json()["invalid-params"]]


async def test_a_cursor_of_one_order_is_refused_in_another(api: Api) -> None:
    agent = account(TENANT, Role.AGENT)
    await opened_tickets(api, account(TENANT), 3)
    page = (await api.get("/v1/tickets", agent, limit=1)).json()

    response = await api.get("/v1/tickets", agent, order="priority", cursor=page["next_cursor"])

    assert response.status_code == 422
    assert "'priority' order" in response.text


async def test_an_organisation_lists_its_own_tickets_and_its_subaccounts(api: Api) -> None:
    agent = account(TENANT, Role.AGENT)
    subaccount = account(TENANT, Role.SUBACCOUNT)
    api.callers.directory.put(*principal_records(subaccount))
    owner = f"owner-of-{subaccount.account_id}"
    own = TicketStory(Actor(account_id=owner, tenant=TENANT, role=Role.CUSTOMER))
    theirs = TicketStory(subaccount)
    await api.apply(own.opened(), theirs.opened(), TicketStory(account(TENANT)).opened())

    response = await api.get("/v1/tickets", agent, organisation=owner)

    assert {item["ticket_id"] for item in response.json()["items"]} == {str(own.ticket_id), str(theirs.ticket_id)}
    only = await api.get("/v1/tickets", agent, organisation=owner, requester=subaccount.account_id)
    assert [item["ticket_id"] for item in only.json()["items"]] == [str(theirs.ticket_id)]


async def test_counts_per_status_and_department_count_only_what_the_caller_may_see(api: Api) -> None:
    customer, other, agent = account(TENANT), account(TENANT), account(TENANT, Role.AGENT)
    mine = await opened_tickets(api, customer, 3)
    await opened_tickets(api, other, 2)
    await api.apply(mine[0].department_change(agent, "Billing"), mine[1].status_change(agent, Status.ANSWERED))

    own = (await api.get("/v1/tickets/counts", customer)).json()
    staff = (await api.get("/v1/tickets/counts", agent, status=["open"])).json()

    assert own == {
        "total": {"count": 3, "exact": True},
        "statuses": [{"status": "open", "count": 2, "exact": True}, {"status": "answered", "count": 1, "exact": True}],
        "departments": [
            {"department": "Billing", "count": 1, "exact": True},
            {"department": "Technical Support", "count": 2, "exact": True},
        ],
    }
    assert staff["total"] == {"count": 4, "exact": True}
    assert [entry["status"] for entry in staff["statuses"]] == ["open"]


async def test_counts_take_the_lists_parameters_and_refuse_what_it_refuses(api: Api) -> None:
    response = await api.get("/v1/tickets/counts", account(TENANT, Role.SUBACCOUNT), assignee="me")

    assert response.status_code == 422
    assert [param["name"] for param in response.json()["invalid-params"]] == ["assignee"]


async def test_the_staff_home_shows_my_most_urgent_work_and_the_newest_unassigned_tickets(api: Api) -> None:
    customer, agent, colleague = account(TENANT), account(TENANT, Role.AGENT), account(TENANT, Role.AGENT)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    old_low, new_urgent, done, theirs, waiting, newest = (
        TicketStory(customer, start=start + timedelta(hours=hour)) for hour in range(6)
    )
    await api.apply(*(story.opened() for story in (old_low, new_urgent, done, theirs, waiting, newest)))
    await api.apply(
        old_low.assign(agent, agent),
        old_low.priority_change(agent, Priority.LOW),
        new_urgent.assign(agent, agent),
        new_urgent.priority_change(agent, Priority.URGENT),
        done.assign(agent, agent),
        done.status_change(agent, Status.RESOLVED),
        theirs.assign(colleague, colleague),
    )
    await opened_tickets(api, account("elsewhere"), 1)

    home = (await api.get("/v1/home", agent, limit=1)).json()
    full = (await api.get("/v1/home", agent)).json()

    def ids(section: dict[str, object]) -> list[object]:
        return [item["ticket_id"] for item in section["items"]]  # type: ignore[attr-defined]

    assert ids(full["assigned_to_me"]) == [str(new_urgent.ticket_id), str(old_low.ticket_id)]
    assert ids(full["newest_unassigned"]) == [str(newest.ticket_id), str(waiting.ticket_id)]
    assert (home["assigned_to_me"]["more"], home["newest_unassigned"]["more"], full["assigned_to_me"]["more"]) == (
        True,
        True,
        False,
    )
    assert ids(home["assigned_to_me"]) == [str(new_urgent.ticket_id)]
    assert full["counts"]["total"] == {"count": 6, "exact": True}
    assert full["assigned_to_me"]["items"][0]["assignee"]["account_id"] == agent.account_id


async def test_a_number_searched_goes_to_its_ticket_and_words_find_what_the_caller_may_read(api: Api) -> None:
    customer, other = account(TENANT), account(TENANT)
    (mine,) = await opened_tickets(api, customer, 1)
    await opened_tickets(api, other, 1)

    by_number = (await api.get("/v1/search", customer, q=f"#{mine.number}")).json()
    by_words = (await api.get("/v1/search", customer, q="vps stopp")).json()

    assert (by_number["kind"], by_number["goes_to"]) == ("number", str(mine.ticket_id))
    assert by_words["kind"] == "words"
    assert [item["ticket"]["ticket_id"] for item in by_words["items"]] == [str(mine.ticket_id)]
    assert by_words["goes_to"] is None


@pytest.mark.parametrize("q", ["", "  ", "!?…", "a\x00b", "x" * 501])
async def test_a_search_for_nothing_searchable_is_a_problem_naming_q(api: Api, q: str) -> None:
    response = await api.get("/v1/search", account(TENANT), q=q)

    assert response.status_code == 422, response.text
    assert [param["name"] for param in response.json()["invalid-params"]] == ["q"]


@pytest.mark.parametrize("last", [b"yesterday", b"-1", "\u00b2".encode("latin-1"), b"12345678901234567890"])
async def test_a_last_event_id_that_is_no_change_id_is_a_problem_naming_it(api: Api, last: bytes) -> None:
    headers = api.callers.bearer(account(TENANT)) | {"Last-Event-ID": last}

    response = await api.client.get("/v1/stream", headers=headers)

    assert response.status_code == 422, response.text
    assert [param["name"] for param in response.json()["invalid-params"]] == ["Last-Event-ID"]
