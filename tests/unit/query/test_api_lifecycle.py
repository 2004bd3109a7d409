"""The whole ticket lifecycle over the HTTP API: the fields each side reads, the timeline, the list filters."""

import pytest
from hostdesk_contracts.base import Actor, Priority, Rating, Role, Status, Visibility
from hostdesk_devtools.stories import Lifecycle, TicketStory, account, every_kind_of_event

from .serving import TENANT, Api

HANDLING_FIELDS = {"assignee", "tags"}


async def lifecycle(api: Api) -> Lifecycle:
    story = every_kind_of_event(TENANT)
    await api.apply(*story.events)
    return story


async def ticket(api: Api, story: TicketStory, caller: Actor, **params: object) -> dict[str, object]:
    response = await api.get(f"/v1/tickets/{story.ticket_id}", caller, **params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def listed(api: Api, caller: Actor, **params: object) -> list[dict[str, object]]:
    response = await api.get("/v1/tickets", caller, **params)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_both_sides_read_the_status_label_category_rating_and_archive_flag(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    story = TicketStory(customer)
    await api.apply(
        story.opened(category="Mail"),
        story.status_change(customer, Status.RESOLVED, label="Done"),
        story.rate(Rating.SATISFIED, "Quick."),
        story.archive(agent),
    )

    for caller in (customer, agent):
        shown = await ticket(api, story, caller)
        (item,) = await listed(api, caller)

        expected = {
            "status": "resolved",
            "status_label": "Done",
            "category": "Mail",
            "archived": True,
            "rating": {"rating": "satisfied", "comment": "Quick."},
            "merged_into": None,
        }
        assert {key: shown[key] for key in expected} == expected
        assert {key: item[key] for key in expected} == expected


async def test_tags_and_assignee_are_shown_to_staff_and_left_out_for_the_requester(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT, name="Alice")
    story = TicketStory(customer)
    await api.apply(story.opened(tags=("vps",)), story.assign(agent, agent))

    for_staff = await ticket(api, story, agent)
    for_customer = await ticket(api, story, customer)
    (listed_for_customer,) = await listed(api, customer)

    assert (for_staff["tags"], for_staff["assignee"]) == (["vps"], {"account_id": agent.account_id, "name": "Alice"})
    assert HANDLING_FIELDS.isdisjoint(for_customer)
    assert HANDLING_FIELDS.isdisjoint(listed_for_customer)


async def test_staff_read_an_unassigned_ticket_as_assigned_to_nobody(api: Api) -> None:
    agent = account(TENANT, Role.AGENT)
    story = TicketStory(account(TENANT))
    await api.apply(story.opened(), story.assign(agent, agent), story.assign(agent, None))

    (item,) = await listed(api, agent)

    assert (item["assignee"], item["tags"]) == (None, [])


async def test_a_merged_ticket_still_answers_and_names_the_ticket_it_went_into(api: Api) -> None:
    story = await lifecycle(api)

    for caller in (story.requester, story.agent):
        source = await ticket(api, story.source, caller)

        assert source["merged_into"] == {"ticket_id": str(story.target.ticket_id), "number": story.target.number}
        assert (source["status"], source["archived"]) == ("closed", True)
        assert source["timeline"][-1]["kind"] == "merged"  # type: ignore[index]


async def test_timeline_entries_carry_their_kind_actor_time_and_values(api: Api) -> None:
    story = await lifecycle(api)
    events = {event.version: event for event in story.events if event.ticket_id == story.target.ticket_id}

    timeline = (await ticket(api, story.target, story.agent))["timeline"]

    entries = {(entry["version"], entry["part"]): entry for entry in timeline}  # type: ignore[attr-defined]
    for (version, part), entry in entries.items():
        if entry["kind"] != "merged_post":
            assert (entry["occurred_at"], entry["actor"]["account_id"]) == (
                events[version].occurred_at.isoformat().replace("+00:00", "Z"),
                events[version].actor.account_id,
            ), (version, part)
    shown = [
        (e["kind"], e["from_value"], e["to_value"], e["from_values"], e["to_values"], e["status_label"])
        for e in timeline  # type: ignore[attr-defined]
        if e["kind"] not in ("opened", "post", "merged_post")
    ]
    assert shown == [
        ("assigned", None, story.agent.account_id, None, None, None),
        ("priority_changed", "normal", "high", None, None, None),
        ("department_changed", "Technical Support", "Billing", None, None, None),
        ("category_changed", "Hosting", "Refunds", None, None, None),
        ("cc_changed", None, None, ["boss@example.net"], ["boss@example.net", "ops@example.net"], None),
        ("tags_changed", None, None, ["vps"], ["vps", "refund"], None),
        ("status_changed", None, None, None, None, None),
        ("status_changed", None, None, None, None, "Validation"),
        ("status_changed", None, None, None, None, None),
        ("rated", None, "unsatisfied", None, None, None),
        ("archived", None, None, None, None, None),
        ("reopened", None, None, None, None, None),
        ("assigned", story.agent.account_id, None, None, None, None),
        ("closed", None, None, None, None, None),
    ]
    assert timeline[-1]["automatic"] is True  # type: ignore[index]


async def test_merged_posts_fall_in_place_in_the_timeline_either_way_round(api: Api) -> None:
    story = await lifecycle(api)

    oldest_first = (await ticket(api, story.target, story.agent))["timeline"]
    newest_first = (await ticket(api, story.target, story.agent, order="desc"))["timeline"]

    posts = [(e["kind"], e["body"]) for e in oldest_first if e["kind"] != "opened" and e["body"]]  # type: ignore[attr-defined]
    assert posts[:4] == [
        ("merged_post", "The outage cost me a day."),
        ("post", "Rebooted the host."),
        ("merged_post", "Billing will answer here."),
        ("post", "Refund once billing agrees."),
    ]
    assert newest_first == list(reversed(oldest_first))  # type: ignore[call-overload]


async def test_the_requester_reads_no_assignment_tags_or_internal_posts_in_the_timeline(api: Api) -> None:
    story = await lifecycle(api)

    timeline = (await ticket(api, story.target, story.requester))["timeline"]

    kinds = {entry["kind"] for entry in timeline}  # type: ignore[attr-defined]
    assert kinds.isdisjoint({"assigned", "tags_changed"})
    assert {entry["visibility"] for entry in timeline} <= {"public", None}  # type: ignore[attr-defined]
    assert [e["body"] for e in timeline if e["kind"] == "merged_post"] == ["The outage cost me a day."]  # type: ignore[attr-defined]


async def archived_and_open(api: Api, customer: Actor, agent: Actor) -> tuple[TicketStory, TicketStory]:
    archived, current = TicketStory(customer), TicketStory(customer)
    await api.apply(
        archived.opened(),
        current.opened(),
        archived.status_change(agent, Status.ANSWERED),
        archived.archive(agent),
    )
    return archived, current


@pytest.mark.parametrize(
    ("archived", "expected"), [("true", {"archived"}), ("false", {"open"}), (None, {"archived", "open"})]
)
async def test_the_list_keeps_archived_tickets_the_others_or_both(
    api: Api, archived: str | None, expected: set[str]
) -> None:
    customer = account(TENANT)
    archived_story, open_story = await archived_and_open(api, customer, account(TENANT, Role.AGENT))
    names = {str(archived_story.ticket_id): "archived", str(open_story.ticket_id): "open"}

    items = await listed(api, customer, **({} if archived is None else {"archived": archived}))

    assert {names[str(item["ticket_id"])] for item in items} == expected


async def test_staff_list_the_tickets_assigned_to_themselves_to_someone_or_to_nobody(api: Api) -> None:
    me, colleague = account(TENANT, Role.AGENT), account(TENANT, Role.AGENT)
    mine, theirs, nobodys = (TicketStory(account(TENANT)) for _ in range(3))
    await api.apply(mine.opened(), theirs.opened(), nobodys.opened())
    await api.apply(mine.assign(me, me), theirs.assign(me, colleague))

    async def assigned(to: str) -> list[object]:
        return [item["ticket_id"] for item in await listed(api, me, assignee=to)]

    assert await assigned("me") == [str(mine.ticket_id)]
    assert await assigned(colleague.account_id) == [str(theirs.ticket_id)]
    assert await assigned("none") == [str(nobodys.ticket_id)]


async def test_the_list_filters_on_any_of_several_priorities(api: Api) -> None:
    agent = account(TENANT, Role.AGENT)
    normal, high, urgent = (TicketStory(account(TENANT)) for _ in range(3))
    await api.apply(normal.opened(), high.opened(), urgent.opened())
    await api.apply(high.priority_change(agent, Priority.HIGH), urgent.priority_change(agent, Priority.URGENT))

    items = await listed(api, agent, priority=["high", "urgent"])

    assert {item["priority"] for item in items} == {"high", "urgent"}


async def test_a_caller_that_handles_no_tickets_may_not_filter_on_the_assignee(api: Api) -> None:
    response = await api.get("/v1/tickets", account(TENANT, Role.SUBACCOUNT), assignee="me")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [param["name"] for param in response.json()["invalid-params"]] == ["assignee"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"archived": "maybe"}, "archived"), ({"priority": "asap"}, "priority"), ({"assignee": ""}, "assignee")],
)
async def test_invalid_filters_answer_a_problem_naming_them(api: Api, params: dict[str, object], field: str) -> None:
    response = await api.get("/v1/tickets", account(TENANT, Role.AGENT), **params)

    assert response.status_code == 422
    assert field in [param["name"].split(".")[0] for param in response.json()["invalid-params"]]


async def test_an_internal_merged_post_keeps_its_visibility(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    target, source = TicketStory(customer), TicketStory(customer)
    await api.apply(source.opened(), source.reply(agent, "Owes us money.", visibility=Visibility.INTERNAL))
    await api.apply(target.opened(), source.merge_into(agent, target), target.absorb(agent, source))

    for_staff = (await ticket(api, target, agent))["timeline"]
    for_customer = (await ticket(api, target, customer))["timeline"]

    assert [e["visibility"] for e in for_staff if e["kind"] == "merged_post"] == ["public", "internal"]  # type: ignore[attr-defined]
    assert [e["visibility"] for e in for_customer if e["kind"] == "merged_post"] == ["public"]  # type: ignore[attr-defined]
