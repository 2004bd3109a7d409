"""Every service's OpenAPI, fuzzed with schemathesis against the running system with a valid bearer token: no
request, valid or not, gets a 5xx, and every 4xx is an RFC 9457 ``application/problem+json``.

Each operation gets a bounded number of examples (more under ``make faults``), both valid ones and ones that
break the schema. The services run on the machine's shared servers, under a subject root of their own.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hostdesk_contracts.base import Role
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server
from hostdesk_devtools.system import SERVICES
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.conftest import delete_streams
from tests.faults.harness import Deployment, deployed, long_run

EVENT_STREAM = "text/event-stream"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def fuzzed(
    postgres_server: Server, nats_server: Server, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    subjects = Subjects(root=f"z{uuid.uuid4().hex[:10]}")
    nats_server.admit(subjects)
    with deployed(
        server_url=postgres_server.url,
        nats_url=nats_url,
        nats_access=nats_server.access,
        subject_root=subjects.root,
        log_dir=tmp_path_factory.mktemp("fuzzing") / "logs",
        # Short waits keep each example fast; no rate limit, so that examples reach the routes behind it.
        extra_env={
            "INTAKE_COMMIT_WAIT_SECONDS": "0.2",
            "INTAKE_RATE_LIMIT_PER_SECOND": "100000",
            "INTAKE_RATE_LIMIT_BURST": "100000",
            "QUERY_READ_YOUR_WRITES_TIMEOUT_SECONDS": "0.2",
        },
    ) as deployment:
        yield deployment
    asyncio.run(delete_streams(nats_url, subjects))
    nats_server.dismiss(subjects)


def _violations(case: Any, response: schemathesis.Response) -> list[str]:
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    if response.status_code >= 500:
        return [f"{where}: a server error: {response.text[:300]}"]
    if response.status_code < 400:
        return []
    content_type = next(iter(response.headers.get("content-type", [])), "")  # lower-case names, lists of values
    if not content_type.startswith(PROBLEM):
        return [f"{where}: an error as {content_type!r}, not {PROBLEM}: {response.text[:200]}"]
    problem = response.json()
    if problem.get("status") != response.status_code or not problem.get("title"):
        return [f"{where}: a problem without a matching status and a title: {problem}"]
    return []


def _fuzz(operation: Any, *, mode: schemathesis.GenerationMode, url: str, token: str) -> tuple[Counter[int], list[str]]:
    """Send ``operation``'s examples; the statuses they got, and what each that broke the rules did."""
    found: list[str] = []
    statuses: Counter[int] = Counter()
    # A stream of events never ends: schemathesis reads one until the request's timeout is up, so a short one.
    timeout = 1 if EVENT_STREAM in json.dumps(operation.definition.raw.get("responses", {})) else 30

    @settings(
        max_examples=50 if long_run() else 30,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first example of each failure is enough
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = case.call(base_url=url, headers=headers, timeout=timeout)
        except requests.exceptions.InvalidHeader:
            return  # a header value no HTTP client can send (schemathesis made it from a negative example)
        statuses[response.status_code] += 1
        found.extend(_violations(case, response))

    try:
        run()
    except Unsatisfiable:
        if mode is schemathesis.GenerationMode.POSITIVE:
            raise
        # Some parameters cannot be broken (a free string): the positive examples stand alone.
    return statuses, found


def _modes(operation: Any) -> list[schemathesis.GenerationMode]:
    """Valid examples always; examples that break the schema when there is something to break."""
    modes = [schemathesis.GenerationMode.POSITIVE]
    if any((operation.path_parameters, operation.query, operation.headers, operation.body)):
        modes.append(schemathesis.GenerationMode.NEGATIVE)
    return modes


@pytest.mark.parametrize("service", SERVICES)
def test_no_request_to_the_api_gets_a_server_error_and_every_error_is_a_problem_document(
    fuzzed: Deployment, service: str
) -> None:
    url = fuzzed.system.url(service)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    token = fuzzed.token("agent-fuzz", Role.SUPERVISOR)
    found: list[str] = []
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in _modes(operation):
            answered, violations = _fuzz(operation, mode=mode, url=url, token=token)
            statuses.update(answered)
            found.extend(violations)

    answers = ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items()))
    print(f"\n{service}: {statuses.total()} requests from its OpenAPI ({answers}); {len(found)} broke the rules")
    assert not found, "\n".join(sorted(set(found))[:20])
