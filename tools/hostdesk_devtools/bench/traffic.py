"""Who the benchmark speaks as, and what it sends: accounts of one tenant (recorded in the directory), their
tokens, the request bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence

from hostdesk_contracts.directory import Record
from hostdesk_contracts.runtime.auth import issue_token

from hostdesk_devtools import callers
from hostdesk_devtools.bench.wrk import Request

TENANT = "bench"
SUPPORT_ADDRESS = f"support@{TENANT}.example"  # where the support mail phase writes to
MAILBOX_ADDRESS = f"mailbox@{TENANT}.example"  # the support address whose mailbox the polling phase fills
CUSTOMER_ACCOUNTS = 300  # intake limits the rate per account: the load is spread over many
STAFF_ACCOUNTS = 8
TOKEN_TTL_SECONDS = 3600

OPEN_BODY = json.dumps(
    {"subject": "Website answers 502 since the last deploy", "body": "Every page of the site answers 502 Bad Gateway."}
)
REPLY_BODY = json.dumps({"body": "We restarted PHP-FPM on your host; the site answers again."})


def customer_token(secret: str, account: str) -> str:
    return issue_token(secret=secret, account_id=account, ttl_seconds=TOKEN_TTL_SECONDS)


def staff_token(secret: str, account: str) -> str:
    return issue_token(secret=secret, account_id=account, ttl_seconds=TOKEN_TTL_SECONDS)


def lag_customer(stamp: str, index: int) -> tuple[str, str]:
    """The id and address of the lag sampler's ``index``-th customer: every sample opens a ticket of its own."""
    return f"lag-{index:04d}", f"lag-{stamp}-{index}@customer.example"


MAIL_OUT_CUSTOMERS = 100  # the mail out phase's requesters, each with an address


def mail_out_customer(stamp: str, index: int) -> tuple[str, str]:
    """The id and address of the mail out phase's ``index``-th requester."""
    return f"out-{index:04d}", f"out-{stamp}-{index}@customer.example"


def bench_callers(*, stamp: str, lag_samples: int) -> list[Record]:
    """Every account the benchmark speaks as, for the directory: the load's customers (no address: notify mails
    only the lag sampler's tickets), its agents (no address either), and the lag sampler's agent and customers."""
    records: list[Record] = [callers.provider(TENANT)]
    records += [
        callers.customer(TENANT, f"load-{n:04d}", name=f"Customer load-{n:04d}") for n in range(CUSTOMER_ACCOUNTS)
    ]
    # No agent has an address: a new ticket mails its handling organisation's staff, and the load's thousands of
    # tickets would flood the sink; the lag is measured on the mail a staff reply sends the requester.
    agents = [f"agent-{n:02d}" for n in range(STAFF_ACCOUNTS)] + ["agent-lag"]
    records += [callers.agent(TENANT, each, name=f"Agent {each}") for each in agents]
    for index in range(lag_samples):
        account, email = lag_customer(stamp, index)
        records.append(callers.customer(TENANT, account, name=f"Customer {account}", email=email))
    for index in range(MAIL_OUT_CUSTOMERS):
        account, email = mail_out_customer(stamp, index)
        records.append(callers.customer(TENANT, account, name=f"Customer {account}", email=email))
    return records


def open_requests(secret: str) -> list[Request]:
    """Ticket opens, one per customer account. The load accounts have no e-mail address: notify consumes
    every event but mails only the tickets the lag sampler opens, so the in-process SMTP sink stays light."""
    return [
        Request("/v1/tickets", customer_token(secret, f"load-{n:04d}"), OPEN_BODY) for n in range(CUSTOMER_ACCOUNTS)
    ]


def reply_requests(secret: str, ticket_ids: Sequence[str]) -> list[Request]:
    """Public staff replies, one per ticket, from a handful of agents in turn."""
    tokens = [staff_token(secret, f"agent-{n:02d}") for n in range(STAFF_ACCOUNTS)]
    return [
        Request(f"/v1/tickets/{ticket_id}/replies", tokens[n % len(tokens)], REPLY_BODY)
        for n, ticket_id in enumerate(ticket_ids)
    ]
