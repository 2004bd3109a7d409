"""What the authorisation check costs a request, measured in process beside the HTTP figures of the same run.

Every request of every service authenticates its caller: the bearer token's signature (checked once per token,
then remembered), then the directory's records of the caller (an in-memory look-up of the account and its
ancestors, kept current by a watch of the directory bucket), then, on a ticket, the one rule of who sees it. Here
each step is timed alone over many calls, in a directory the size of a large provider's, so that the figure is
the check's own and not the network's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hostdesk_contracts.access import reach_of
from hostdesk_contracts.directory import AccountKind, AccountRecord, StaffRecord, StaffRole
from hostdesk_contracts.runtime.auth import TokenKeys, authenticate, issue_token
from hostdesk_contracts.runtime.directory import MemoryDirectory

SECRET = "bench-authorisation-secret-0123456789abcdef"  # noqa: S105 - signs the bench's own tokens only
RESELLERS, CUSTOMERS_PER_RESELLER = 100, 100  # 10,000 customers, each with a subaccount: 20,101 accounts
CALLERS = 1_000  # distinct tokens in the measured calls, as many callers at once


@dataclass(frozen=True)
class AuthorisationCosts:
    token_us: float  # the token's signature and claims, remembered after the first check
    caller_us: float  # token and directory: the whole authentication of a request
    rule_us: float  # who sees a ticket (``access``), once the caller is known
    accounts: int  # in the directory measured

    @property
    def per_request_us(self) -> float:
        return self.caller_us + self.rule_us


def _directory() -> tuple[MemoryDirectory, list[str]]:
    directory = MemoryDirectory()
    directory.put(AccountRecord(id="bench-p", kind=AccountKind.PROVIDER, display_name="Provider"))
    callers: list[str] = []
    for r in range(RESELLERS):
        reseller = f"bench-r{r}"
        directory.put(AccountRecord(id=reseller, kind=AccountKind.RESELLER, parent_id="bench-p", display_name=reseller))
        directory.put(
            StaffRecord(id=f"{reseller}-agent", organisation_id=reseller, role=StaffRole.AGENT, display_name="A")
        )
        callers.append(f"{reseller}-agent")
        for c in range(CUSTOMERS_PER_RESELLER):
            customer = f"{reseller}-c{c}"
            directory.put(
                AccountRecord(id=customer, kind=AccountKind.CUSTOMER, parent_id=reseller, display_name=customer)
            )
            directory.put(
                AccountRecord(id=f"{customer}-s", kind=AccountKind.SUBACCOUNT, parent_id=customer, display_name="S")
            )
            callers += [customer, f"{customer}-s"]
    return directory, callers


async def _per_call_us(calls: int, call: Callable[[int], Awaitable[object]]) -> float:
    for warm in range(min(calls, CALLERS)):
        await call(warm)
    started = time.perf_counter()
    for n in range(calls):
        await call(n)
    return (time.perf_counter() - started) / calls * 1e6


async def authorisation_costs(*, calls: int = 50_000) -> AuthorisationCosts:
    directory, principals = _directory()
    keys = TokenKeys(secret=SECRET, jwks_url=None, jwks_cache_seconds=300, jwks_cooldown_seconds=10)
    chosen = principals[:: max(1, len(principals) // CALLERS)][:CALLERS]
    tokens = [issue_token(secret=SECRET, account_id=each) for each in chosen]
    actors = [(await authenticate(token, keys=keys, directory=directory)).actor for token in tokens]

    async def token(n: int) -> object:
        return await keys.subject(tokens[n % len(tokens)])

    async def caller(n: int) -> object:
        return await authenticate(tokens[n % len(tokens)], keys=keys, directory=directory)

    async def rule(n: int) -> object:
        actor = actors[n % len(actors)]
        return reach_of(actor).side(
            tenant=actor.tenant, requester_id="bench-r1-c1", handling_organisation_id="bench-r1", department=None
        )

    return AuthorisationCosts(
        token_us=await _per_call_us(calls, token),
        caller_us=await _per_call_us(calls, caller),
        rule_us=await _per_call_us(calls, rule),
        accounts=1 + RESELLERS * (1 + 2 * CUSTOMERS_PER_RESELLER),
    )
