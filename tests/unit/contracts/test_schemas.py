"""The committed JSON Schemas are exactly what the models say; change a model, regenerate, commit both."""

from __future__ import annotations

import json

from hostdesk_contracts.commands import COMMAND_TYPES
from hostdesk_contracts.events import EVENT_ADAPTER, EVENT_TYPES, TicketOpened
from hostdesk_contracts.schemas import ASYNCAPI_FILE, DEFAULT_FOLDER, all_schemas, asyncapi, render


def test_the_committed_schemas_match_the_models() -> None:
    expected = all_schemas()
    committed = {path.name: path.read_text(encoding="utf-8") for path in DEFAULT_FOLDER.glob("*.json")}

    assert sorted(committed) == sorted(expected), "run: uv run python -m hostdesk_contracts.schemas"
    for name, schema in expected.items():
        assert committed[name] == render(schema), f"{name} drifted; run: uv run python -m hostdesk_contracts.schemas"


def test_every_command_and_event_schema_pins_its_type_token() -> None:
    typed = {name: schema for name, schema in all_schemas().items() if name.startswith("ticket.")}

    assert len(typed) == len(COMMAND_TYPES) + len(EVENT_TYPES)
    for name, schema in typed.items():
        assert schema["properties"]["type"]["const"] == name.removesuffix(".json")


def test_a_subscriber_ignores_fields_it_does_not_know() -> None:
    document = {
        "type": "ticket.opened.v1",
        "event_id": "00000000-0000-0000-0000-000000000001:1",
        "ticket_id": "00000000-0000-0000-0000-000000000001",
        "tenant": "acme",
        "version": 1,
        "occurred_at": "2026-11-22T09:00:00Z",
        "actor": {"account_id": "c1", "tenant": "acme", "role": "customer"},
        "side": "requester",
        "number": 482913,
        "subject": "Down",
        "body": "Help",
        "post_id": "p1",
        "requester": {"account_id": "c1", "tenant": "acme", "role": "customer"},
        "status": "open",
        "priority": "normal",
        "channel": "web",
        "a_field_from_the_future": {"nested": True},
    }

    event = EVENT_ADAPTER.validate_json(json.dumps(document))

    assert isinstance(event, TicketOpened)
    assert event.number == 482913


def test_the_committed_asyncapi_document_matches_the_models() -> None:
    committed = (DEFAULT_FOLDER.parent / ASYNCAPI_FILE).read_text(encoding="utf-8")

    assert committed == render(asyncapi()), "run: uv run python -m hostdesk_contracts.schemas"


def test_the_asyncapi_document_has_a_channel_per_event_and_resolvable_references() -> None:
    document = asyncapi()
    text = render(document)

    assert len(document["channels"]) == len(EVENT_TYPES)
    assert "tickets.events.{tenant}.reply_posted.v1" in document["channels"]
    for reference in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert reference in document["components"]["schemas"]
