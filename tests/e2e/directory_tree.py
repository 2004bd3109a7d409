"""A provider's tree built through the product, as an installation builds it: the provider by the operator's
command line (``hostdesk accounts put``, a process), everything below it through intake's directory API with the
provider's token; and the credentials each caller of the tree calls with.

The tree: provider ``P`` (staff: agent ``PA`` and supervisor ``PS``, department "Technical Support"); resellers
``R1`` and ``R2`` (``R1``'s agent ``RA``, departments "Support" and "Sales"); customers ``C1`` and ``C2`` under
``R1``, ``C3`` under ``R2``; subaccount ``S1`` under ``C1``; two API keys of ``R1``, one to read and write tickets,
one to read the directory only.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
from hostdesk_contracts.runtime.auth import issue_token
from nats.js.errors import KeyNotFoundError

from tests.e2e.conftest import SECRET, Running
from tests.support import bearer, eventually

REPO = Path(__file__).resolve().parents[2]
CLI_SECONDS = 120.0
OTHER_SECRET = "another-installations-secret-0123456789abcdef"

# Ids of the control panel (the provider's is the test's tenant, filled in by ``Tree``).
R1, R2, C1, C2, C3, S1 = "r1", "r2", "c1", "c2", "c3", "s1"
PA, PS, RA = "pa", "ps", "ra"
PROVIDER_DEPARTMENT = "Technical Support"
R1_DEPARTMENTS = ("Support", "Sales")
C1_EMAIL = "jo@c1.example"


@dataclass
class Tree:
    """The tree's ids, and each caller's credential (None: no ``Authorization`` header at all)."""

    provider: str
    credentials: dict[str, str | None] = field(default_factory=dict)
    configuration_version: int = 0  # R1's, once configured

    def headers(self, caller: str) -> dict[str, str]:
        credential = self.credentials[caller]
        return bearer(credential) if credential is not None else {}


async def hostdesk(running: Running, *args: str) -> str:
    """``hostdesk`` run as the operator runs it, through the workspace's ``uv``, against this installation."""
    uv = REPO / ".tools" / "bin" / "uv"
    program = str(uv) if uv.exists() else shutil.which("uv") or "uv"
    environment = {
        **os.environ,
        "HOSTDESK_NATS_URL": running.nats_url,  # as the admin, as operators connect
        "HOSTDESK_ROOT": running.subjects.root,
        "HOSTDESK_TENANT": running.tenant,
        "HOSTDESK_JWT_SECRET": SECRET,
        "HOSTDESK_DATABASE_URL": running.system.config.database_url,
        "COLUMNS": "250",
    }
    process = await asyncio.create_subprocess_exec(
        program,
        "run",
        "--frozen",
        "hostdesk",
        *args,
        cwd=REPO,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=CLI_SECONDS)
    output = stdout.decode() + stderr.decode()
    assert process.returncode == 0, f"hostdesk {' '.join(args)}: exit {process.returncode}\n{output}"
    return output


async def directory_version(running: Running, key: str) -> int | None:
    """The version of the record under ``key`` in the directory bucket (None: no such record), read as admin."""
    nc = await nats.connect(running.nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        bucket = await nc.jetstream().key_value(running.subjects.directory_bucket)
        try:
            entry = await bucket.get(key)
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        version = json.loads(entry.value).get("version")
        return int(version) if isinstance(version, int) else None
    finally:
        await nc.close()


async def in_bucket(running: Running, *keys: str) -> None:
    """Wait until the directory bucket holds every record of ``keys``: callers are looked up there."""
    missing = list(keys)

    async def all_there() -> bool:
        missing[:] = [key for key in keys if await directory_version(running, key) is None]
        return not missing

    await eventually(all_there, within=30, every=0.1, what=lambda: f"directory records {missing} in the bucket")


async def _put(client: httpx.AsyncClient, path: str, body: dict[str, Any], *, method: str = "PUT") -> dict[str, Any]:
    response = await client.request(method, path, json=body)
    assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
    answer: dict[str, Any] = response.json()
    return answer


async def build_tree(running: Running) -> Tree:
    """The tree, through the product; returns once every record is in the directory bucket."""
    provider = running.tenant
    await hostdesk(running, "accounts", "put", provider, "--kind", "provider", "--name", "Provider P")
    await in_bucket(running, f"principal.{provider}")
    tree = Tree(provider=provider)
    token = issue_token(secret=SECRET, account_id=provider)
    async with httpx.AsyncClient(
        base_url=running.system.config.url("intake"), headers=bearer(token), timeout=30
    ) as intake:
        levels = [
            [
                {"id": R1, "kind": "reseller", "parent_id": provider, "display_name": "Reseller R1"},
                {"id": R2, "kind": "reseller", "parent_id": provider, "display_name": "Reseller R2"},
            ],
            [
                {"id": C1, "kind": "customer", "parent_id": R1, "display_name": "Customer C1", "email": C1_EMAIL},
                {"id": C2, "kind": "customer", "parent_id": R1, "display_name": "Customer C2"},
                {"id": C3, "kind": "customer", "parent_id": R2, "display_name": "Customer C3"},
            ],
            [{"id": S1, "kind": "subaccount", "parent_id": C1, "display_name": "FTP user S1"}],
        ]
        for accounts in levels:  # a level of the tree a request, as a control panel synchronises
            bulk = await _put(intake, "/v1/directory/accounts", {"accounts": accounts})
            assert [each["result"] for each in bulk["results"]] == ["committed"] * len(accounts), bulk
        await _put(
            intake,
            f"/v1/directory/organisations/{provider}/configuration",
            {"departments": [{"name": PROVIDER_DEPARTMENT}]},
        )
        configured = await _put(
            intake,
            f"/v1/directory/organisations/{R1}/configuration",
            {"departments": [{"name": name} for name in R1_DEPARTMENTS]},
        )
        tree.configuration_version = int(configured["version"])
        staff = {
            PA: {"organisation_id": provider, "role": "agent", "departments": [PROVIDER_DEPARTMENT]},
            PS: {"organisation_id": provider, "role": "supervisor", "departments": [PROVIDER_DEPARTMENT]},
            RA: {"organisation_id": R1, "role": "agent", "departments": [R1_DEPARTMENTS[0]]},
        }
        for staff_id, body in staff.items():
            await _put(intake, f"/v1/directory/staff/{staff_id}", {**body, "display_name": f"Staff {staff_id}"})
        keys = {}
        for name, scopes in (("KEY", ["tickets:write", "tickets:read"]), ("KEYDIR", ["directory:read"])):
            made = await _put(
                intake,
                "/v1/directory/api-keys",
                {"account_id": R1, "label": f"R1 {name}", "scopes": scopes},
                method="POST",
            )
            keys[name] = (made["id"], made["key"])
    principals = [R1, R2, C1, C2, C3, S1, PA, PS, RA]
    await in_bucket(
        running,
        *(f"principal.{each}" for each in principals),
        f"configuration.{R1}",
        *(f"api_key.{key_id}" for key_id, _ in keys.values()),
    )
    for caller, account in {"PA": PA, "PS": PS, "RA": RA, "R1": R1, "C1": C1, "S1": S1, "C2": C2, "C3": C3}.items():
        tree.credentials[caller] = issue_token(secret=SECRET, account_id=account)
    tree.credentials["KEY"] = keys["KEY"][1]
    tree.credentials["KEYDIR"] = keys["KEYDIR"][1]
    tree.credentials["NONE"] = None
    tree.credentials["EXPIRED"] = issue_token(secret=SECRET, account_id=C1, ttl_seconds=-60)
    tree.credentials["FORGED"] = issue_token(secret=OTHER_SECRET, account_id=C1)
    return tree
