"""The JSON Schemas of the public messages, committed in ``contracts/schemas/`` for subscribers in any language.

``python -m hostdesk_contracts.schemas [folder]`` writes them; a test fails when the committed files drift
from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hostdesk_contracts.commands import CloseTicket, OpenTicket, PostReply
from hostdesk_contracts.events import EVENT_TYPES, event_type_token
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.problems import Problem

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "schemas"


def _type_token(model: type[BaseModel]) -> str:
    token: str = model.model_fields["type"].default
    return token


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, one per public message type and version."""
    models: dict[str, type[BaseModel]] = {f"{event_type_token(event)}.json": event for event in EVENT_TYPES}
    models |= {f"{_type_token(command)}.json": command for command in (OpenTicket, PostReply, CloseTicket)}
    models |= {"command.outcome.v1.json": CommandOutcome, "problem.json": Problem}
    return {name: model.model_json_schema(mode="serialization") for name, model in sorted(models.items())}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(folder: Path = DEFAULT_FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = folder / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER):
        print(path)
