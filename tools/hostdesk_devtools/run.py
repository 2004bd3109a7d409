"""``make run``: the whole system on this machine, with demo data, until Ctrl-C.

PostgreSQL and NATS are found or started (see ``servers``), an SMTP sink catches every mail in
``.run/mail/``, the four services start as processes, the operator's command line builds the demo directory
(``hostdesk demo``: a provider, its resellers, customers and subaccounts, staff in two departments) and prints a
token for each kind of caller (written to ``.run/directory.env`` and ``.run/demo.env``), and a demo customer opens
a few tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
from hostdesk_contracts.runtime.sealing import new_key

from hostdesk_devtools.servers import Server, find_or_start_nats, find_or_start_postgres, wait_for_port, with_database
from hostdesk_devtools.system import System, SystemConfig

RUN_DIR = Path.cwd() / ".run"
DEMO_DATABASE = "hostdesk"
DEMO_TENANT = "demo"
SMTP_PORT = 8025
MAIL_PORT = 2525  # intake's SMTP listener: support mail in (the demo provider's address is support@acme.example)
NATS_PORT = 4223  # make run's own NATS, with authorisation on; beside a machine's NATS on the usual 4222

log = logging.getLogger("hostdesk")


async def _ensure_database(server_url: str, name: str) -> str:
    connection = await asyncpg.connect(server_url, timeout=10)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(server_url, name)


def _secret(name: str = "jwt-secret", make: Callable[[], str] = lambda: secrets.token_urlsafe(32)) -> str:
    """A secret of this installation, made the first time and kept in ``.run/<name>``."""
    path = RUN_DIR / name
    if not path.exists():
        path.write_text(make(), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _demo_directory(config: SystemConfig, nats_url: str) -> dict[str, str]:
    """Build the demo's directory with the operator's command line (``hostdesk demo``, as an operator runs it:
    a provider, two resellers, their customers and subaccounts, staff in two departments) and read back the
    tokens it wrote, one for each kind of caller. Running it again changes nothing."""
    tokens_file = RUN_DIR / "directory.env"
    environment = {
        **os.environ,
        "HOSTDESK_NATS_URL": nats_url,  # as the admin, as operators connect
        "HOSTDESK_ROOT": config.subject_root,
        "HOSTDESK_TENANT": DEMO_TENANT,
        "HOSTDESK_JWT_SECRET": config.jwt_secret,
        "HOSTDESK_DATABASE_URL": config.database_url,
    }
    subprocess.run(
        [sys.executable, "-m", "hostdesk_cli", "demo", "--env", str(tokens_file)], env=environment, check=True
    )
    lines = tokens_file.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _demo_tickets(config: SystemConfig, tokens: dict[str, str]) -> str:
    """A few tickets in the states a support team sees every day: picked up and labelled, resolved and rated,
    answered and archived. Idempotency keys make a second ``make run`` on the same database add nothing."""
    intake = config.url("intake")

    def send(token: str, key: str, method: str, path: str, body: dict[str, object] | None = None) -> str:
        headers = {"Authorization": f"Bearer {tokens[token]}", "Idempotency-Key": key}
        response = httpx.request(method, f"{intake}{path}", headers=headers, json=body, timeout=30)
        if response.status_code == 202:  # stored, applied shortly: wait for the outcome
            response = httpx.get(f"{intake}{response.headers['Location']}", headers=headers, timeout=30)
        response.raise_for_status()
        return str(response.json()["ticket_id"])

    vps = send(
        "CUSTOMER_TOKEN",
        "demo-ticket-1",
        "POST",
        "/v1/tickets",
        {
            "subject": "My VPS does not answer",
            "body": "Since this morning vps-1042 answers no ping and no SSH.",
            "priority": "high",
            "department": "Technical Support",
            "related_service": "vps-1042",
        },
    )
    send("STAFF_TOKEN", "demo-ticket-1-pickup", "POST", f"/v1/tickets/{vps}/pickup")
    send("STAFF_TOKEN", "demo-ticket-1-label", "POST", f"/v1/tickets/{vps}/status", {"label": "Validation"})
    invoice = send(
        "CUSTOMER_TOKEN",
        "demo-ticket-2",
        "POST",
        "/v1/tickets",
        {"subject": "Invoice twice", "body": "I was billed twice for March.", "department": "Billing"},
    )
    send("STAFF_TOKEN", "demo-ticket-2-reply", "POST", f"/v1/tickets/{invoice}/replies", {"body": "Refunded."})
    send("CUSTOMER_TOKEN", "demo-ticket-2-resolve", "POST", f"/v1/tickets/{invoice}/resolve")
    send("CUSTOMER_TOKEN", "demo-ticket-2-rate", "POST", f"/v1/tickets/{invoice}/rating", {"rating": "satisfied"})
    dns = send("CUSTOMER_TOKEN", "demo-ticket-3", "POST", "/v1/tickets", {"subject": "DNS", "body": "Where are my NS?"})
    send("STAFF_TOKEN", "demo-ticket-3-reply", "POST", f"/v1/tickets/{dns}/replies", {"body": "ns1/ns2.example."})
    send("CUSTOMER_TOKEN", "demo-ticket-3-archive", "POST", f"/v1/tickets/{dns}/archive")
    return vps


def _stop(*_: object) -> None:
    """The first Ctrl-C (or SIGTERM) stops everything; more of them, as a terminal sends, do not cut that short."""
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    sys.exit(0)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    RUN_DIR.mkdir(exist_ok=True)
    servers: list[Server] = []
    sink: subprocess.Popen[bytes] | None = None
    system: System | None = None
    # Installed explicitly: a shell that starts us in the background may have told us to ignore SIGINT.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stop)
    try:
        postgres = find_or_start_postgres(RUN_DIR)
        servers.append(postgres)
        nats = find_or_start_nats(RUN_DIR, port=NATS_PORT)
        servers.append(nats)
        log.info("PostgreSQL: %s (%s)", postgres.url, postgres.origin)
        log.info("NATS:       %s (%s)", nats.url, nats.origin)
        database_url = (
            postgres.url
            if postgres.origin == "environment"
            else asyncio.run(_ensure_database(postgres.url, DEMO_DATABASE))
        )
        sink = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hostdesk_devtools.smtp_sink",
                "--port",
                str(SMTP_PORT),
                "--dir",
                str(RUN_DIR / "mail"),
            ]
        )
        wait_for_port("127.0.0.1", SMTP_PORT)
        secret = _secret()
        config = SystemConfig(
            database_url=database_url,
            nats_url=nats.url,
            jwt_secret=secret,
            smtp_port=SMTP_PORT,
            mail_port=MAIL_PORT,
            log_dir=RUN_DIR / "logs",
            nats_access=nats.access,
            event_key=_secret("event-key"),
            mailbox_key=_secret("mailbox-key", new_key),
        )
        system = System(config)
        system.start()
        tokens = _demo_directory(config, nats.url_as("admin"))
        ticket_id = _demo_tickets(config, tokens)
        lines = [f"{name}={value}" for name, value in tokens.items()]
        lines += [f"{service.upper()}_URL={config.url(service)}" for service in config.ports]
        lines.append(f"DEMO_TICKET_ID={ticket_id}")
        (RUN_DIR / "demo.env").write_text("\n".join(lines) + "\n", encoding="utf-8")
        _print_welcome(config, tokens, ticket_id)
        signal.pause()
    finally:
        log.info("stopping...")
        if system is not None:
            system.stop()
        if sink is not None:
            sink.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                sink.wait(5)
        for server in reversed(servers):
            server.stop()
        log.info("stopped.")


def _print_welcome(config: SystemConfig, tokens: dict[str, str], ticket_id: str) -> None:
    print(
        f"""
HostDesk is running.
  intake  (commands)  {config.url("intake")}/docs
  query   (reads)     {config.url("query")}/docs
  tickets (log)       {config.url("tickets")}/docs  (a ticket as it was at a version or a moment)
  notify  (mail)      {config.url("notify")}/docs
  mail sink           SMTP 127.0.0.1:{SMTP_PORT}, every mail in .run/mail/
  NATS                {config.nats_url}, authorisation on: each service its own user; the users'
                      passwords (subscriber: for your other systems, reads events only) in
                      .run/nats/passwords.json
  support mail in     SMTP 127.0.0.1:{MAIL_PORT}: mail to support@{DEMO_TENANT}.example opens a ticket (mail log:
                      $INTAKE_URL/v1/mail?result=posted, as staff)
  logs                .run/logs/

Demo tokens (also in .run/demo.env):
  customer: {tokens["CUSTOMER_TOKEN"]}
  staff:    {tokens["STAFF_TOKEN"]}

Try:
  source .run/demo.env
  curl -s -H "Authorization: Bearer $CUSTOMER_TOKEN" $QUERY_URL/v1/tickets
  curl -s -H "Authorization: Bearer $STAFF_TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"body": "Rebooted the host; it answers again."}}' $INTAKE_URL/v1/tickets/{ticket_id}/replies
  curl -s -H "Authorization: Bearer $STAFF_TOKEN" "$TICKETS_URL/v1/tickets/{ticket_id}/history?version=2"
  ls .run/mail/
  python3 -c 'import smtplib; smtplib.SMTP("127.0.0.1", {MAIL_PORT}).sendmail("jo@customer.example", \\
      ["support@{DEMO_TENANT}.example"], "From: jo@customer.example\\r\\nSubject: Site down\\r\\n\\r\\nDown.")'

Ctrl-C stops everything.
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
