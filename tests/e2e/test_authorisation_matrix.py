"""Who may do what to a ticket, on the whole system as processes: every caller of a provider's tree against every
action, each cell's exact answer, and every refusal checked to have recorded nothing (the ticket's version in the
log, the events stream, the directory bucket).

The tree (``tests/e2e/directory_tree.py``, built through the product): provider P (agent PA, supervisor PS),
resellers R1 (agent RA) and R2, customers C1 and C2 under R1 and C3 under R2, subaccount S1 under C1, R1's API keys
KEY (tickets:write and tickets:read) and KEYDIR (directory:read only). The actions are on a ticket opened by C1 to
R1, its default handling organisation, so its handling side is R1 and R1's staff, its requesting side C1, and
nobody else sees it (SPEC section 1): a provider's staff do not read a reseller's conversation with its customer.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE

from tests.e2e.conftest import Running
from tests.e2e.directory_tree import C1, R1, R2, RA, Tree, build_tree, directory_version
from tests.e2e.event_stream import published
from tests.support import eventually

# The matrix: one row per caller, one column per action; each cell the exact answer.
#   seen / unseen   200, and the ticket is (is not) in the caller's list
#   200H / 200R     200 with the handling side's view (internal notes and tags shown) / the requester's (neither)
#   422rq           422 naming requester_id (staff open tickets only to an account below their organisation)
#   403             a key without the scope
#   404             a ticket the caller may not see (or a directory record it may not change): never a 403
# Columns: list (query's list), read (query's ticket), hist (tickets' history ?version=1), deliv (notify's
# deliveries), open (a ticket of the caller's own to its parent), openP (to the provider, by
# handling_organisation_id), reply, note (an internal note), assign (to RA), move (transfer from "Support" to
# R1's "Sales"), close, arch (archive an answered ticket), merge (a second ticket of C1 into it), rate (a resolved
# ticket), config (PUT R1's configuration).
MATRIX = """
          list   read   hist   deliv  open   openP  reply  note   assign move   close  arch   merge  rate   config
PA        unseen 404    404    404    422rq  422rq  404    404    404    404    404    404    404    404    404
PS        unseen 404    404    404    422rq  422rq  404    404    404    404    404    404    404    404    404
RA        seen   200H   200    200    422rq  422rq  201    201    201    201    200    201    201    409    404
R1        seen   200H   200    200    201    201    201    201    201    201    200    201    201    409    200
C1        seen   200R   200    404    201    201    201    409    409    409    200    201    409    201    404
S1        unseen 404    404    404    201    201    404    404    404    404    404    404    404    404    404
C2        unseen 404    404    404    201    201    404    404    404    404    404    404    404    404    404
C3        unseen 404    404    404    201    201    404    404    404    404    404    404    404    404    404
KEY       seen   200H   200    200    201    201    201    201    201    201    200    201    201    409    403
KEYDIR    403    403    403    403    403    403    403    403    403    403    403    403    403    403    403
NONE      401    401    401    401    401    401    401    401    401    401    401    401    401    401    401
EXPIRED   401    401    401    401    401    401    401    401    401    401    401    401    401    401    401
FORGED    401    401    401    401    401    401    401    401    401    401    401    401    401    401    401
"""
FIELD_CODES = {"rq": "requester_id"}
# Whom a ticket a caller opens is addressed to by default: its parent (R1's key acts for R1; None: the provider).
PARENTS: dict[str, str | None] = {"R1": None, "KEY": None, "C1": R1, "C2": R1, "C3": R2, "S1": C1}
NOTE, TAG = "Internal: the RAID controller is failing.", "hardware"
# One test sends a few hundred requests as C1 and as RA within a minute or two: the per-account rate limits,
# which have tests of their own, would answer some of them 429.
WIDE_LIMITS = {
    "INTAKE_RATE_LIMIT_PER_SECOND": "10000",
    "INTAKE_RATE_LIMIT_BURST": "10000",
    "INTAKE_OPENS_PER_ACCOUNT_PER_HOUR": "10000",
    "INTAKE_OPENS_PER_KEY_PER_HOUR": "10000",
    "INTAKE_REPLIES_PER_ACCOUNT_PER_MINUTE": "10000",
    "INTAKE_REPLIES_PER_KEY_PER_MINUTE": "10000",
    **{f"{service}_READS_PER_MINUTE": "1000000" for service in ("QUERY", "TICKETS", "NOTIFY")},
    **{f"{service}_READ_BURST": "100000" for service in ("QUERY", "TICKETS", "NOTIFY")},
}
PARALLEL_CELLS = 4


def parse_matrix(text: str) -> tuple[tuple[str, ...], dict[str, dict[str, str]]]:
    header, *rows = (line.split() for line in text.strip().splitlines())
    expected = {}
    for caller, *cells in rows:
        assert len(cells) == len(header), f"row {caller}: {len(cells)} cells for {len(header)} columns"
        expected[caller] = dict(zip(header, cells, strict=True))
    return tuple(header), expected


ACTIONS, EXPECTED = parse_matrix(MATRIX)


@pytest.fixture
def system_env() -> dict[str, str]:
    return WIDE_LIMITS


class SetupFailed(Exception):
    """A ticket a cell needs could not be prepared (by C1 or RA): the cell cannot be judged."""


@dataclass
class Refused:
    """A refusal to check on the stream: the versions its tickets had before it (the ticket's log said so)."""

    cell: str
    versions: dict[str, int]


@dataclass
class Matrix:
    """The system, the tree, and what the cells saw."""

    running: Running
    tree: Tree
    clients: dict[str, httpx.AsyncClient]
    observed: dict[str, dict[str, str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    opened: set[str] = field(default_factory=set)  # every ticket the product said it opened
    configured: int = 0  # changes of R1's configuration answered 2xx

    async def call(
        self, service: str, caller: str, method: str, path: str, *, body: Any = None, **params: Any
    ) -> httpx.Response:
        """One request as ``caller``; a command answered 202 is followed to the answer its request has."""
        client, headers = self.clients[service], self.tree.headers(caller)
        response = await client.request(method, path, json=body, params=params or None, headers=headers)
        if response.status_code != 202 or service != "intake":
            return response
        polled = [response]

        async def decided() -> bool:
            polled[0] = await client.get(response.headers["Location"], headers=headers)
            return polled[0].status_code != 202

        await eventually(decided, within=30, every=0.2, what=f"the outcome of {caller}'s {method} {path}")
        return polled[0]

    async def open_ticket(self, subject: str, **fields: Any) -> tuple[str, int]:
        """A ticket of C1's to R1 (its parent): its id and version."""
        response = await self.call(
            "intake", "C1", "POST", "/v1/tickets", body={"subject": subject, "body": f"{subject}.", **fields}
        )
        if response.status_code != 201:
            raise SetupFailed(f"C1 opening {subject!r}: {response.status_code} {response.text[:200]}")
        answer = response.json()
        self.opened.add(answer["ticket_id"])
        return answer["ticket_id"], int(answer["version"])

    async def as_ra(self, method: str, path: str, body: Any = None) -> int:
        """A command of R1's agent that a cell's ticket needs; its new version."""
        response = await self.call("intake", "RA", method, path, body=body)
        if response.status_code not in (200, 201):
            raise SetupFailed(f"RA {method} {path}: {response.status_code} {response.text[:200]}")
        return int(response.json()["version"])

    async def version(self, ticket_id: str) -> int:
        """The ticket's version in the tickets service's log, as R1's agent reads its history."""
        response = await self.call("tickets", "RA", "GET", f"/v1/tickets/{ticket_id}/history", timeline_limit=1)
        if response.status_code != 200:
            raise SetupFailed(f"RA reading the history of {ticket_id}: {response.status_code} {response.text[:200]}")
        return int(response.json()["ticket"]["version"])


def answer_of(response: httpx.Response) -> str:
    """A response in the matrix's notation: its status, the field a 422 names; a 4xx not a problem is said so."""
    status = response.status_code
    if status >= 400 and not response.headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE):
        return f"{status}(not problem+json)"
    if status != 422:
        return str(status)
    names = {str(param.get("name", "")).split(".")[-1] for param in response.json().get("invalid-params") or ()}
    codes = [code for code, name in FIELD_CODES.items() if name in names]
    return f"422{codes[0]}" if codes else f"422[{','.join(sorted(names))}]"


# -- the cells --------------------------------------------------------------------------------------------------

Cell = Callable[[Matrix, str], Awaitable[str]]


async def command(
    m: Matrix, caller: str, action: str, method: str, path: str, body: Any, versions: dict[str, int]
) -> str:
    """A command on the tickets of ``versions`` (their versions now): accepted, it moves the first one on;
    refused, it moves none, in the log (checked now) and on the stream (checked at the end)."""
    response = await m.call("intake", caller, method, path, body=body)
    answer = answer_of(response)
    after = {ticket_id: await m.version(ticket_id) for ticket_id in versions}
    first = next(iter(versions))
    if response.is_success:
        if after[first] <= versions[first]:
            answer += "(recorded nothing)"
    else:
        moved = {
            ticket_id: (versions[ticket_id], now) for ticket_id, now in after.items() if now != versions[ticket_id]
        }
        if moved:
            m.failures.append(f"{caller} x {action}: refused ({answer}) but the log moved: {moved}")
        m.refused.append(Refused(cell=f"{caller} x {action}", versions=versions))
    return answer


async def reply(m: Matrix, caller: str) -> str:
    ticket, version = await m.open_ticket(f"{caller} reply")
    path = f"/v1/tickets/{ticket}/replies"
    return await command(m, caller, "reply", "POST", path, {"body": "Any news?"}, {ticket: version})


async def note(m: Matrix, caller: str) -> str:
    ticket, version = await m.open_ticket(f"{caller} note")
    body = {"body": "Checked the logs.", "visibility": "internal"}
    return await command(m, caller, "note", "POST", f"/v1/tickets/{ticket}/replies", body, {ticket: version})


async def assign(m: Matrix, caller: str) -> str:
    ticket, version = await m.open_ticket(f"{caller} assign")
    body = {"account_id": RA}
    return await command(m, caller, "assign", "PUT", f"/v1/tickets/{ticket}/assignee", body, {ticket: version})


async def transfer(m: Matrix, caller: str) -> str:
    ticket, version = await m.open_ticket(f"{caller} transfer", department="Support")
    return await command(
        m, caller, "move", "PATCH", f"/v1/tickets/{ticket}", {"department": "Sales"}, {ticket: version}
    )


async def close(m: Matrix, caller: str) -> str:
    ticket, version = await m.open_ticket(f"{caller} close")
    return await command(m, caller, "close", "POST", f"/v1/tickets/{ticket}/close", {}, {ticket: version})


async def archive(m: Matrix, caller: str) -> str:
    ticket, _ = await m.open_ticket(f"{caller} archive")
    version = await m.as_ra("POST", f"/v1/tickets/{ticket}/replies", {"body": "Replaced the disk."})
    return await command(m, caller, "arch", "POST", f"/v1/tickets/{ticket}/archive", None, {ticket: version})


async def merge(m: Matrix, caller: str) -> str:
    target, target_version = await m.open_ticket(f"{caller} merge target")
    source, source_version = await m.open_ticket(f"{caller} merge source")
    body = {"into_ticket_id": target}
    versions = {source: source_version, target: target_version}
    return await command(m, caller, "merge", "POST", f"/v1/tickets/{source}/merge", body, versions)


async def rate(m: Matrix, caller: str) -> str:
    ticket, _ = await m.open_ticket(f"{caller} rate")
    version = await m.as_ra("POST", f"/v1/tickets/{ticket}/status", {"status": "resolved"})
    body = {"rating": "satisfied"}
    return await command(m, caller, "rate", "POST", f"/v1/tickets/{ticket}/rating", body, {ticket: version})


async def opened_to(m: Matrix, caller: str, *, to_provider: bool) -> str:
    """The caller opens a ticket of its own, to its parent or to the provider; one accepted must be addressed so."""
    subject = f"{caller} open to {'the provider' if to_provider else 'its parent'}"
    body: dict[str, Any] = {"subject": subject, "body": "The site answers 500."}
    if to_provider:
        body["handling_organisation_id"] = m.tree.provider
    response = await m.call("intake", caller, "POST", "/v1/tickets", body=body)
    answer = answer_of(response)
    if response.status_code != 201:
        return answer
    ticket = response.json()["ticket_id"]
    m.opened.add(ticket)
    expected = None if to_provider else PARENTS.get(caller)
    expected = expected or m.tree.provider
    addressed = await addressed_to(m, caller, ticket)
    return answer if addressed == expected else f"{answer}(to {addressed})"


async def addressed_to(m: Matrix, caller: str, ticket: str) -> str | None:
    """The handling organisation of a ticket the caller opened, as query shows it to the caller."""
    seen: list[httpx.Response] = []

    async def shown() -> bool:
        seen[:] = [await m.call("query", caller, "GET", f"/v1/tickets/{ticket}", min_version=1)]
        return seen[0].status_code == 200

    try:
        await eventually(shown, within=10, every=0.2, what="the ticket in query")
    except AssertionError:
        return f"unread: {seen[0].status_code if seen else None}"
    addressed = seen[0].json().get("handling_organisation_id")
    return str(addressed) if addressed is not None else None


async def open_to_parent(m: Matrix, caller: str) -> str:
    return await opened_to(m, caller, to_provider=False)


async def open_to_provider(m: Matrix, caller: str) -> str:
    return await opened_to(m, caller, to_provider=True)


MUTATIONS: dict[str, Cell] = {
    "open": open_to_parent,
    "openP": open_to_provider,
    "reply": reply,
    "note": note,
    "assign": assign,
    "move": transfer,
    "close": close,
    "arch": archive,
    "merge": merge,
    "rate": rate,
}


# -- reads of one ticket T, prepared once ------------------------------------------------------------------------


async def prepared_ticket(m: Matrix) -> str:
    """T: C1's ticket to R1, with an internal note and a tag of R1's agent, and its public answer; waited for
    in query and in notify, as R1's agent reads them."""
    ticket, _ = await m.open_ticket("T: the VPS reboots at night")
    await m.as_ra("POST", f"/v1/tickets/{ticket}/replies", {"body": NOTE, "visibility": "internal"})
    await m.as_ra("PATCH", f"/v1/tickets/{ticket}", {"tags": [TAG]})
    version = await m.as_ra("POST", f"/v1/tickets/{ticket}/replies", {"body": "We are replacing its disk."})

    async def in_query() -> bool:
        response = await m.call("query", "RA", "GET", f"/v1/tickets/{ticket}", min_version=version)
        return response.status_code == 200 and response.json()["version"] >= version

    async def in_notify() -> bool:
        response = await m.call("notify", "RA", "GET", "/v1/deliveries", ticket_id=ticket)
        return response.status_code == 200

    for ready, what in ((in_query, "T in query for RA"), (in_notify, "T in notify for RA")):
        try:
            await eventually(ready, within=15, every=0.2, what=what)
        except AssertionError as late:  # the cells will say what each caller gets
            m.failures.append(f"setting up T: {late}")
    return ticket


async def listed(m: Matrix, caller: str, ticket: str) -> str:
    cursor: str | None = None
    ids: set[str] = set()
    while True:
        params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        response = await m.call("query", caller, "GET", "/v1/tickets", **params)
        if response.status_code != 200:
            return answer_of(response)
        page = response.json()
        ids |= {item["ticket_id"] for item in page["items"]}
        if not (cursor := page.get("next_cursor")):
            return "seen" if ticket in ids else "unseen"


async def read(m: Matrix, caller: str, ticket: str) -> str:
    response = await m.call("query", caller, "GET", f"/v1/tickets/{ticket}")
    if response.status_code != 200:
        return answer_of(response)
    shown = response.json()
    tags = TAG in (shown.get("tags") or ())
    notes = any(entry.get("body") == NOTE for entry in shown["timeline"])
    if tags and notes:
        return "200H"
    if not tags and not notes:
        return "200R"
    return f"200(tags {tags}, internal notes {notes})"


async def history(m: Matrix, caller: str, ticket: str) -> str:
    return answer_of(await m.call("tickets", caller, "GET", f"/v1/tickets/{ticket}/history", version=1))


async def deliveries(m: Matrix, caller: str, ticket: str) -> str:
    return answer_of(await m.call("notify", caller, "GET", "/v1/deliveries", ticket_id=ticket))


READS = {"list": listed, "read": read, "hist": history, "deliv": deliveries}


# -- R1's configuration ------------------------------------------------------------------------------------------


async def configure(m: Matrix, caller: str) -> str:
    """R1's departments kept (none may be removed) and a canned response of the caller's: a real change."""
    key = f"configuration.{R1}"
    before = await directory_version(m.running, key)
    body = {
        "departments": [{"name": "Support"}, {"name": "Sales"}],
        "canned_responses": [{"name": f"From {caller}", "body": "We are looking into it."}],
    }
    response = await m.call("intake", caller, "PUT", f"/v1/directory/organisations/{R1}/configuration", body=body)
    answer = answer_of(response)
    if response.is_success:
        m.configured += 1
        wanted = (before or 0) + 1

        async def kept() -> bool:
            return await directory_version(m.running, key) == wanted

        try:
            await eventually(kept, within=10, every=0.1, what=f"{key} at version {wanted} in the bucket")
        except AssertionError:
            answer += f"(bucket at {await directory_version(m.running, key)}, not {wanted})"
    elif (after := await directory_version(m.running, key)) != before:
        m.failures.append(f"{caller} x config: refused ({answer}) but {key} moved from {before} to {after}")
    return answer


# -- the matrix --------------------------------------------------------------------------------------------------


async def judged(m: Matrix, caller: str, action: str, cell: Callable[[], Awaitable[str]]) -> None:
    try:
        m.observed.setdefault(caller, {})[action] = await cell()
    except SetupFailed as failed:
        m.observed.setdefault(caller, {})[action] = "setup?"
        m.failures.append(f"{caller} x {action}: not judged, {failed}")
    except Exception as error:  # one cell's surprise must not hide the others
        m.observed.setdefault(caller, {})[action] = "error"
        m.failures.append(f"{caller} x {action}: {error!r}")


async def audit_the_stream(m: Matrix) -> None:
    """After a fence (a ticket opened last, on the stream once everything before it is), nothing refused is on
    the stream: no refused ticket moved, no refused open opened one, R1's configuration changed only as answered."""
    fence, version = await m.open_ticket("fence")
    events = await published(m.running, fence, version=version)
    for refused in m.refused:
        moved = {
            ticket: (before, events.versions.get(ticket))
            for ticket, before in refused.versions.items()
            if events.versions.get(ticket) != before
        }
        if moved:
            m.failures.append(f"{refused.cell}: refused, but the stream has the ticket at another version: {moved}")
    for ticket, subject in events.opened.items():
        if ticket not in m.opened:
            m.failures.append(f"a ticket the product did not say it opened is on the stream: {subject!r}")
    changes = events.directory[f"configuration.{R1}"]
    if changes != m.tree.configuration_version + m.configured:
        m.failures.append(
            f"R1's configuration: {changes} events on the stream, for {m.configured} changes answered 2xx after "
            f"its version {m.tree.configuration_version}"
        )


def wrong_cells(m: Matrix) -> list[str]:
    wrong = []
    for caller, row in EXPECTED.items():
        for action, expected in row.items():
            got = m.observed.get(caller, {}).get(action, "unrun")
            if got != expected:
                wrong.append(f"{caller} x {action}: expected {expected}, got {got}")
    return wrong


def observed_table(m: Matrix) -> str:
    """What each caller got, laid out as ``MATRIX``."""
    rows = {caller: [m.observed.get(caller, {}).get(action, "unrun") for action in ACTIONS] for caller in EXPECTED}
    widths = [max(len(action), *(len(row[n]) for row in rows.values())) + 1 for n, action in enumerate(ACTIONS)]
    lines = ["".ljust(10) + "".join(action.ljust(width) for action, width in zip(ACTIONS, widths, strict=True))]
    for caller, row in rows.items():
        lines.append(caller.ljust(10) + "".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


@pytest.mark.timeout(600)
async def test_every_caller_of_the_tree_gets_exactly_its_answer_to_every_action_and_refusals_record_nothing(
    running: Running,
) -> None:
    tree = await build_tree(running)
    services = ("intake", "query", "tickets", "notify")
    clients = {
        service: httpx.AsyncClient(base_url=running.system.config.url(service), timeout=30) for service in services
    }
    m = Matrix(running=running, tree=tree, clients=clients)
    try:
        ticket = await prepared_ticket(m)
        gate = asyncio.Semaphore(PARALLEL_CELLS)

        async def bounded(caller: str, action: str, cell: Callable[[], Awaitable[str]]) -> None:
            async with gate:
                await judged(m, caller, action, cell)

        await asyncio.gather(
            *(
                bounded(caller, action, functools.partial(read, m, caller, ticket))
                for caller in EXPECTED
                for action, read in READS.items()
            )
        )
        await asyncio.gather(
            *(
                bounded(caller, action, functools.partial(cell, m, caller))
                for caller in EXPECTED
                for action, cell in MUTATIONS.items()
            )
        )
        for caller in EXPECTED:  # one at a time: each reads the configuration's version before and after
            await judged(m, caller, "config", functools.partial(configure, m, caller))
        await audit_the_stream(m)
    finally:
        for client in clients.values():
            await client.aclose()

    wrong = wrong_cells(m) + m.failures
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(wrong) + "\n\nObserved:\n" + observed_table(m)
