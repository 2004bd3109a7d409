"""What intake remembers of every command it sends: whose it is and, for a request with an Idempotency-Key,
what that request asked. Pure rules: the record, the request's digest, and how a second use is judged.

A record is written under the command id before the command is published, and kept as long as the command's
outcome (a day): so a key used again with another request is a 422 for as long as the first outcome is known,
however long after the first request it comes (JetStream's own de-duplication forgets an id after ten
minutes, and the tickets service answers an id it has applied with the outcome of the new request's content).
The record also names the tenant and the account of the command: a caller polling ``/v1/commands/{id}`` gets
the outcome only of a command recorded as theirs, in their tenant; any other id is a 404, known or not.

The digest covers what the caller asked for: the method, the path, the body (as parsed JSON, so a retry that
orders its fields otherwise is the same request), the version given in ``If-Match``, and the tenant, account and
role of the caller (a role changed between two uses may decide the command otherwise). It leaves out how the
caller is displayed (the token's ``name`` and ``email``), which a refreshed token may change between a request
and its retry, and the request's time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from hostdesk_contracts.base import Actor


@dataclass(frozen=True)
class KeyRecord:
    """The command of one request, as intake recorded it: its tenant and account, and the digest of the request
    when it came with an Idempotency-Key (``None`` without: its random id is never sent again)."""

    tenant: str
    account_id: str
    digest: str | None = None

    @classmethod
    def of(cls, actor: Actor, digest: str | None) -> KeyRecord:
        return cls(tenant=actor.tenant, account_id=actor.account_id, digest=digest)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> KeyRecord | None:
        """The record stored as ``data``, or ``None`` for something that is not one (never a crash)."""
        try:
            fields = json.loads(data)
            record = cls(tenant=fields["tenant"], account_id=fields["account_id"], digest=fields.get("digest"))
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(record.tenant, str) or not isinstance(record.account_id, str):
            return None
        return record

    def belongs_to(self, actor: Actor) -> bool:
        """Whether the command is the caller's: the same account in the same tenant."""
        return (self.tenant, self.account_id) == (actor.tenant, actor.account_id)

    def allows(self, later: KeyRecord) -> bool:
        """Whether ``later``, a request sent with the same command id, is a retry of the recorded one."""
        return self == later


def request_digest(*, method: str, path: str, body: bytes, expected_version: int | None, actor: Actor) -> str:
    """The digest of what a request asks, equal for its retries whenever they come and whoever displays them."""
    asked = {
        "method": method.upper(),
        "path": path,
        "body": _canonical_body(body),
        "expected_version": expected_version,
        "tenant": actor.tenant,
        "account_id": actor.account_id,
        "role": actor.role.value,
    }
    return hashlib.sha256(json.dumps(asked, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _canonical_body(body: bytes) -> Any:
    """The body as parsed JSON, so the order of its fields and its spacing do not matter; its bytes otherwise."""
    if not body:
        return None
    try:
        return {"json": json.loads(body)}
    except (ValueError, RecursionError):
        return {"bytes": body.hex()}
