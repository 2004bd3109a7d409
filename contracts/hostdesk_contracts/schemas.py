"""The JSON Schemas of the public messages (``contracts/schemas/``) and an AsyncAPI document of the events
(``contracts/asyncapi.json``), committed for subscribers in any language.

``python -m hostdesk_contracts.schemas [folder]`` writes them; a test fails when the committed files drift
from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hostdesk_contracts.base import TENANT_PATTERN
from hostdesk_contracts.commands import COMMAND_TYPES
from hostdesk_contracts.directory import DIRECTORY_COMMAND_TYPES, DIRECTORY_EVENT_TYPES
from hostdesk_contracts.events import EVENT_TYPES, event_name, event_type_token
from hostdesk_contracts.mail import MailOutcome, MailReceived
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.subjects import ES_POSITION, EVENT_TYPE, MSG_ID, TICKET_ID, TICKET_VERSION

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "schemas"
ASYNCAPI_FILE = "asyncapi.json"  # beside the schemas folder


def _type_token(model: type[BaseModel]) -> str:
    token: str = model.model_fields["type"].default
    return token


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, one per public message type and version."""
    models: dict[str, type[BaseModel]] = {f"{event_type_token(event)}.json": event for event in EVENT_TYPES}
    models |= {f"{_type_token(command)}.json": command for command in COMMAND_TYPES}
    models |= {f"{_type_token(event)}.json": event for event in DIRECTORY_EVENT_TYPES}
    models |= {f"{_type_token(command)}.json": command for command in DIRECTORY_COMMAND_TYPES}
    models |= {"command.outcome.v1.json": CommandOutcome, "problem.json": Problem}
    models |= {f"{_type_token(message)}.json": message for message in (MailReceived, MailOutcome)}
    return {name: model.model_json_schema(mode="serialization") for name, model in sorted(models.items())}


def asyncapi() -> dict[str, Any]:
    """An AsyncAPI 2.6 document of the ticket events: one channel per event type, tenant as a parameter."""
    components: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    headers = {
        "type": "object",
        "properties": {
            MSG_ID: {"type": "string", "description": "The event id, <ticket_id>:<version>: de-duplicate on it."},
            ES_POSITION: {"type": "string", "description": "The event's position in the ticket log."},
            TICKET_ID: {"type": "string", "format": "uuid"},
            TICKET_VERSION: {"type": "string"},
            EVENT_TYPE: {"type": "string"},
        },
    }
    for event in EVENT_TYPES:
        token = event_type_token(event)
        schema = event.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[token] = schema
        channels[f"tickets.events.{{tenant}}.{event_name(event)}"] = {
            "parameters": {"tenant": {"schema": {"type": "string", "pattern": TENANT_PATTERN.pattern}}},
            "subscribe": {
                "operationId": f"on_{token.replace('.', '_')}",
                "message": {"name": token, "headers": headers, "payload": {"$ref": f"#/components/schemas/{token}"}},
            },
        }
    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": "HostDesk ticket events",
            "version": "1",
            "description": "Every change to a ticket, in log order, on NATS JetStream (stream <ROOT>_EVENTS). "
            "The subject root is 'tickets' unless the installation sets another.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"schemas": dict(sorted(components.items()))},
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(folder: Path = DEFAULT_FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder.parent / ASYNCAPI_FILE).write_text(render(asyncapi()), encoding="utf-8")
    written = [folder.parent / ASYNCAPI_FILE]
    for name, schema in all_schemas().items():
        path = folder / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER):
        print(path)
