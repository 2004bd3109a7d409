"""Where things travel on NATS.

Events:   ``<root>.events.<tenant>.<event>.v<N>``  e.g. ``tickets.events.acme.reply_posted.v1``
          subscribe to a tenant with ``tickets.events.acme.>``, to a type with ``tickets.events.*.closed.*``.
Commands: ``<root>.commands.<tenant>.<command>``   e.g. ``tickets.commands.acme.open``
Directory: ``<root>.events.<tenant>.directory.<event>.v<N>`` e.g. ``tickets.events.acme.directory.account_changed.v1``
          and ``<root>.commands.<tenant>.directory.<command>``, on the same streams; the latest records in the
          key-value bucket ``<ROOT>_DIRECTORY`` (``hostdesk_contracts.directory``).
Outcomes: ``<root>.outcomes.<inbox>.<command_id>`` core NATS, to the intake instance waiting for them,
          and the key-value bucket ``<ROOT>_OUTCOMES`` for callers that come back later.
Rates:    the key-value bucket ``<ROOT>_RATES``, intake's counters of opens and replies per account and per API key,
          shared by its replicas.
Mail:     ``<root>.mail.<tenant>.received`` a support mail stored (its raw bytes in the object store ``<ROOT>_MAIL``),
          and ``<root>.mail.<tenant>.<outcome>`` what became of it (``posted``, ``screened``, ``quarantined``), on
          the stream ``<ROOT>_MAIL``: intake's inbound mail and its log (``hostdesk_contracts.mail``).

The root defaults to ``tickets``; a second installation (or a test) on the same NATS picks another root.
Ticket id and version travel in headers, not in subjects, to keep subject cardinality low.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from hostdesk_contracts.commands import COMMAND_NAMES, CommandBase
from hostdesk_contracts.directory import DirectoryCommand, DirectoryEvent, directory_command_name, directory_event_name
from hostdesk_contracts.events import TicketEvent, event_name, event_type_token

# Message headers.
MSG_ID = "Nats-Msg-Id"
ES_POSITION = "Es-Position"  # the event's position in the tickets service's log
TICKET_ID = "Ticket-Id"
TICKET_VERSION = "Ticket-Version"
EVENT_TYPE = "Event-Type"
REPLY_TO = "Outcome-Reply-To"  # where tickets sends the outcome of a command


def event_headers(event: TicketEvent, *, position: int | None = None) -> dict[str, str]:
    """The headers every event travels with: its id (JetStream's de-duplication key), its ticket, version and
    type, and, when the relay publishes it, its position in the tickets service's log."""
    headers = {
        MSG_ID: event.event_id,
        TICKET_ID: str(event.ticket_id),
        TICKET_VERSION: str(event.version),
        EVENT_TYPE: event_type_token(event),
    }
    if position is not None:
        headers[ES_POSITION] = str(position)
    return headers


def directory_event_headers(event: DirectoryEvent, *, position: int | None = None) -> dict[str, str]:
    """The headers a directory event travels with: its id (JetStream's de-duplication key), its type and, when the
    relay publishes it, its position in the tickets service's log. No ticket id or version: it is no ticket's."""
    headers = {MSG_ID: event.event_id, EVENT_TYPE: directory_event_name(event)}
    if position is not None:
        headers[ES_POSITION] = str(position)
    return headers


def thread_number_key(tenant: str, number: int) -> str:
    """The threads bucket's key of a ticket number: the ticket it names (after a merge, the one it went into)."""
    return f"{tenant}.{number}"


def thread_merged_key(tenant: str, ticket_id: UUID) -> str:
    """The threads bucket's key of a merged ticket: the ticket it went into."""
    return f"{tenant}.merged.{ticket_id.hex}"


def thread_message_key(tenant: str, message_id: str) -> str:
    """The threads bucket's key of a Message-ID (without brackets) of mail sent about an imported ticket: that
    ticket, so that a reply to the previous helpdesk's mail lands in it."""
    digest = hashlib.sha256(message_id.strip().strip("<>").encode("utf-8", "surrogateescape")).hexdigest()[:40]
    return f"{tenant}.message.{digest}"


def thread_ticket_number_key(tenant: str, ticket_id: UUID) -> str:
    """The threads bucket's key of a ticket's own number."""
    return f"{tenant}.number.{ticket_id.hex}"


@dataclass(frozen=True)
class Subjects:
    root: str = "tickets"

    @property
    def events_stream(self) -> str:
        return f"{self.root.upper()}_EVENTS"

    @property
    def commands_stream(self) -> str:
        return f"{self.root.upper()}_COMMANDS"

    @property
    def outcomes_bucket(self) -> str:
        return f"{self.root.upper()}_OUTCOMES"

    @property
    def directory_bucket(self) -> str:
        return f"{self.root.upper()}_DIRECTORY"

    @property
    def rates_bucket(self) -> str:
        return f"{self.root.upper()}_RATES"

    @property
    def attachments_bucket(self) -> str:
        """The object store of attachments' bytes (``runtime.blobs``)."""
        return f"{self.root.upper()}_ATTACHMENTS"

    @property
    def uploads_bucket(self) -> str:
        """The key-value bucket of files uploaded and not yet attached (intake's, a day each)."""
        return f"{self.root.upper()}_UPLOADS"

    @property
    def threads_bucket(self) -> str:
        """The key-value bucket of the ticket each number names (the tickets service's; intake reads it for mail)."""
        return f"{self.root.upper()}_THREADS"

    @property
    def mail_stream(self) -> str:
        """The stream of support mail received and of what became of each (intake's)."""
        return f"{self.root.upper()}_MAIL"

    @property
    def mail_bucket(self) -> str:
        """The object store of support mail's raw bytes, as received (``runtime.blobs``, one name a tenant's copy)."""
        return f"{self.root.upper()}_MAIL"

    @property
    def all_mail(self) -> str:
        return f"{self.root}.mail.>"

    @property
    def all_mail_received(self) -> str:
        return f"{self.root}.mail.*.received"

    def mail(self, tenant: str, what: str) -> str:
        """``received``, or what became of the mail: ``posted``, ``screened``, ``quarantined``."""
        return f"{self.root}.mail.{tenant}.{what}"

    @property
    def every_stream(self) -> tuple[str, ...]:
        """The name of every stream of the installation, its buckets' and object stores' included."""
        buckets = (
            self.outcomes_bucket,
            self.directory_bucket,
            self.rates_bucket,
            self.uploads_bucket,
            self.threads_bucket,
        )
        return (
            self.events_stream,
            self.commands_stream,
            self.mail_stream,
            *(f"KV_{bucket}" for bucket in buckets),
            f"OBJ_{self.attachments_bucket}",
            f"OBJ_{self.mail_bucket}",
        )

    @property
    def all_directory_events(self) -> str:
        return f"{self.root}.events.*.directory.>"

    @property
    def all_events(self) -> str:
        return f"{self.root}.events.>"

    @property
    def all_commands(self) -> str:
        return f"{self.root}.commands.>"

    def event(self, tenant: str, event: type[TicketEvent] | TicketEvent) -> str:
        return f"{self.root}.events.{tenant}.{event_name(event)}"

    def command(self, command: CommandBase | DirectoryCommand) -> str:
        """Where ``command`` travels: a ticket's or the directory's command subject of its actor's tenant."""
        if isinstance(command, DirectoryCommand):
            return self.directory_command(command)
        return f"{self.root}.commands.{command.actor.tenant}.{COMMAND_NAMES[type(command)]}"

    def directory_event(self, tenant: str, event: type[DirectoryEvent] | DirectoryEvent) -> str:
        return f"{self.root}.events.{tenant}.{directory_event_name(event)}"

    def directory_command(self, command: DirectoryCommand) -> str:
        return f"{self.root}.commands.{command.actor.tenant}.directory.{directory_command_name(command)}"

    def outcome_inbox(self, inbox: str) -> str:
        return f"{self.root}.outcomes.{inbox}.*"

    def outcome(self, inbox: str, command_id: str) -> str:
        return f"{self.root}.outcomes.{inbox}.{command_id}"
