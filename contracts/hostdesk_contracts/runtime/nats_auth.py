"""Who may do what on NATS: one user per service, and a subscriber user for the provider's other systems.

Each service connects with its own user (``<SERVICE>_NATS_USER`` and ``<SERVICE>_NATS_PASSWORD``, from a
Kubernetes secret in production) and may do only what it does:

- intake publishes commands, reads outcomes (its inbox's and the outcomes bucket's) and keeps its own record of
  each command it sends in that bucket (keys ``record.<command id>``); it reads no event; it alone reads and
  writes the rates bucket, the counters its replicas share, and the uploads bucket; it stores attachments' bytes
  in their object store; it alone receives support mail: it stores its raw bytes in the mail object store,
  publishes it and what became of it on the mail stream, and consumes that stream;
- tickets owns the streams, the outcomes bucket and the directory bucket: it declares them, consumes commands, and
  is the only user that may publish events (its relay), write outcomes and write the directory (its projector);
  it declares the rates and uploads buckets, the attachments' and mail's object stores and the mail stream too,
  and may neither read nor write them;
- query and notify consume events (their durable consumers, the catch-up's own) and read attachments' bytes
  (downloads, files attached to mail);
- intake, query, notify and tickets read the directory bucket (a key, or a watch of it) to look callers up;
- ``subscriber``, for billing, CRM and provisioning, reads events through consumers of its own and nothing
  else: not commands, not outcomes, not the directory bucket (it holds the API keys' hashes), not the product's
  own consumers of the events stream.

Every user's replies come to an inbox of its own (``_INBOX.<user>.>``): nobody can listen to another's answers,
JetStream's deliveries included. ``admin`` (for operators and test systems) may do anything.

``authorization_block`` renders the ``authorization`` section of a ``nats-server`` configuration for one or
more installations (subject roots); ``python -m hostdesk_contracts.runtime.nats_auth`` prints it for operators.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hostdesk_contracts.subjects import Subjects

SERVICES = ("intake", "tickets", "query", "notify")
SUBSCRIBER = "subscriber"
ADMIN = "admin"
USERS = (*SERVICES, SUBSCRIBER, ADMIN)

# The durable consumers the product's own services read the events stream through; a subscriber may not touch
# them (it could take their messages away). Query's catch-up consumers have random names a subscriber cannot list.
# ``directory`` and ``threads`` are the tickets service's projectors of events into its buckets.
PRODUCT_EVENT_CONSUMERS = ("query", "notify", "directory", "threads")

_JS = "$JS.API"


def inbox_prefix(user: str) -> str:
    """Where a user's replies and deliveries come: only that user may subscribe there."""
    return f"_INBOX.{user}"


@dataclass
class Permissions:
    publish: list[str] = field(default_factory=list)
    subscribe: list[str] = field(default_factory=list)
    publish_deny: list[str] = field(default_factory=list)
    subscribe_deny: list[str] = field(default_factory=list)

    def merge(self, other: Permissions) -> None:
        for mine, theirs in (
            (self.publish, other.publish),
            (self.subscribe, other.subscribe),
            (self.publish_deny, other.publish_deny),
            (self.subscribe_deny, other.subscribe_deny),
        ):
            mine.extend(subject for subject in theirs if subject not in mine)

    def as_config(self) -> dict[str, dict[str, list[str]]]:
        publish: dict[str, list[str]] = {"allow": self.publish}
        subscribe: dict[str, list[str]] = {"allow": self.subscribe}
        if self.publish_deny:
            publish["deny"] = self.publish_deny
        if self.subscribe_deny:
            subscribe["deny"] = self.subscribe_deny
        return {"publish": publish, "subscribe": subscribe}


def _reads_stream(stream: str) -> list[str]:
    """Publish rights to read a stream through consumers: info, messages by sequence, consumers of any name
    (create, info, delete, next), acknowledgements and flow control."""
    return [
        f"{_JS}.STREAM.INFO.{stream}",
        f"{_JS}.STREAM.MSG.GET.{stream}",
        f"{_JS}.DIRECT.GET.{stream}",
        f"{_JS}.DIRECT.GET.{stream}.>",
        f"{_JS}.CONSUMER.CREATE.{stream}",
        f"{_JS}.CONSUMER.*.{stream}.>",
        f"{_JS}.CONSUMER.DURABLE.CREATE.{stream}.*",
        f"{_JS}.CONSUMER.MSG.NEXT.{stream}.*",
        f"$JS.ACK.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


def _owns_stream(stream: str) -> list[str]:
    return [f"{_JS}.STREAM.CREATE.{stream}", f"{_JS}.STREAM.UPDATE.{stream}", f"{_JS}.STREAM.INFO.{stream}"]


def _reads_bucket(bucket: str) -> list[str]:
    stream = f"KV_{bucket}"
    return [
        f"{_JS}.STREAM.INFO.{stream}",
        f"{_JS}.STREAM.MSG.GET.{stream}",
        f"{_JS}.DIRECT.GET.{stream}",
        f"{_JS}.DIRECT.GET.{stream}.>",
    ]


def _watches_bucket(bucket: str) -> list[str]:
    """Reading a bucket's keys and watching it for changes (an ordered consumer of its stream, flow control)."""
    stream = f"KV_{bucket}"
    return [
        *_reads_bucket(bucket),
        f"{_JS}.CONSUMER.CREATE.{stream}",
        f"{_JS}.CONSUMER.CREATE.{stream}.>",
        f"{_JS}.CONSUMER.DELETE.{stream}.>",
        f"{_JS}.CONSUMER.INFO.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


def _reads_object_store(bucket: str) -> list[str]:
    """Reading an object store's files: its stream's info, a file's description (the last message of its
    subject), its chunks through an ordered consumer with flow control. nats-py finds the stream of the chunks'
    subject by asking for the names of the streams (the server answers with the one holding that subject): the
    names of streams, never their contents."""
    stream = f"OBJ_{bucket}"
    return [
        f"{_JS}.STREAM.NAMES",
        f"{_JS}.STREAM.INFO.{stream}",
        f"{_JS}.STREAM.MSG.GET.{stream}",
        f"{_JS}.DIRECT.GET.{stream}",
        f"{_JS}.DIRECT.GET.{stream}.>",
        f"{_JS}.CONSUMER.CREATE.{stream}",
        f"{_JS}.CONSUMER.CREATE.{stream}.>",
        f"{_JS}.CONSUMER.DELETE.{stream}.>",
        f"{_JS}.CONSUMER.INFO.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


def _writes_object_store(bucket: str) -> list[str]:
    """Storing files in an object store (chunks, then the description) and purging the chunks of a failed put."""
    return [*_reads_object_store(bucket), f"$O.{bucket}.>", f"{_JS}.STREAM.PURGE.OBJ_{bucket}"]


def permissions(user: str, subjects: Subjects) -> Permissions:
    """What ``user`` may publish and subscribe to in the installation rooted at ``subjects``."""
    events, commands, bucket = subjects.events_stream, subjects.commands_stream, subjects.outcomes_bucket
    directory, rates = subjects.directory_bucket, subjects.rates_bucket
    uploads, attachments = subjects.uploads_bucket, subjects.attachments_bucket
    mail, raw_mail, threads = subjects.mail_stream, subjects.mail_bucket, subjects.threads_bucket
    inbox = [f"{inbox_prefix(user)}.>"]
    match user:
        case "intake":
            return Permissions(
                publish=[
                    f"{subjects.root}.commands.>",
                    f"{_JS}.STREAM.INFO.{commands}",
                    *_reads_bucket(bucket),
                    # Its own record of each command it sends (who sent it, what it asked), beside the outcomes;
                    # an outcome's key (a command id) has no dot, so intake cannot write one.
                    f"$KV.{bucket}.record.>",
                    *_watches_bucket(directory),
                    *_reads_bucket(rates),
                    f"$KV.{rates}.>",
                    *_reads_bucket(uploads),
                    f"$KV.{uploads}.>",
                    *_writes_object_store(attachments),
                    subjects.all_mail,
                    *_reads_stream(mail),
                    *_writes_object_store(raw_mail),
                    *_reads_bucket(threads),
                ],
                subscribe=[f"{subjects.root}.outcomes.>", *inbox],
            )
        case "tickets":
            return Permissions(
                publish=[
                    f"{subjects.root}.events.>",
                    f"{subjects.root}.outcomes.>",
                    f"$KV.{bucket}.>",
                    f"$KV.{directory}.>",  # the directory projector
                    f"$KV.{threads}.>",  # the threads projector
                    *_owns_stream(f"KV_{threads}"),
                    *_reads_bucket(threads),
                    *_owns_stream(events),
                    *_owns_stream(commands),
                    *_owns_stream(f"KV_{bucket}"),
                    *_owns_stream(f"KV_{directory}"),
                    *_owns_stream(f"KV_{rates}"),
                    *_owns_stream(f"KV_{uploads}"),
                    *_owns_stream(f"OBJ_{attachments}"),
                    *_owns_stream(mail),
                    *_owns_stream(f"OBJ_{raw_mail}"),
                    *_reads_stream(commands),
                    *_reads_stream(events),  # the relay's resume point: the stream's last messages
                    *_reads_bucket(bucket),
                    *_watches_bucket(directory),
                ],
                subscribe=inbox,
            )
        case "query" | "notify":
            return Permissions(
                publish=[*_reads_stream(events), *_watches_bucket(directory), *_reads_object_store(attachments)],
                subscribe=inbox,
            )
        case "subscriber":
            denied = []
            for name in PRODUCT_EVENT_CONSUMERS:
                denied += [
                    f"{_JS}.CONSUMER.*.{events}.{name}",
                    f"{_JS}.CONSUMER.*.{events}.{name}.>",
                    f"{_JS}.CONSUMER.*.*.{events}.{name}",
                    f"$JS.ACK.{events}.{name}.>",
                ]
            denied += [f"{_JS}.CONSUMER.LIST.{events}", f"{_JS}.CONSUMER.NAMES.{events}"]
            return Permissions(publish=_reads_stream(events), subscribe=inbox, publish_deny=denied)
        case "admin":
            return Permissions(publish=[">"], subscribe=[">"])
    raise ValueError(f"no such NATS user {user!r}; the users are {', '.join(USERS)}")


def authorization_block(passwords: Mapping[str, str], roots: Iterable[Subjects]) -> dict[str, object]:
    """The ``authorization`` section of a ``nats-server`` configuration: every user in ``passwords`` with the
    permissions of every installation in ``roots``. Passwords may be given as bcrypt hashes
    (``nats server passwd``), which the server accepts in place of the plain ones."""
    installations = list(roots)
    users = []
    for user, password in passwords.items():
        allowed = Permissions()
        for subjects in installations:
            allowed.merge(permissions(user, subjects))
        users.append({"user": user, "password": password, "permissions": allowed.as_config()})
    return {"users": users}


def server_config(
    *, port: int, store_dir: str, passwords: Mapping[str, str], roots: Sequence[Subjects], http_port: int | None = None
) -> str:
    """A whole ``nats-server`` configuration: loopback, JetStream, and the product's users. NATS reads JSON values
    in its configuration format, so each section is written as JSON."""
    lines = [
        f'listen: "127.0.0.1:{port}"',
        f"jetstream: {json.dumps({'store_dir': store_dir})}",
        f"authorization: {json.dumps(authorization_block(passwords, roots), indent=2)}",
    ]
    if http_port is not None:
        lines.insert(1, f'http: "127.0.0.1:{http_port}"')
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Print the authorization section of a nats-server configuration for HostDesk. Each user's "
        "password is read from HOSTDESK_NATS_PASSWORD_<USER> (plain, or a bcrypt hash from `nats server passwd`)."
    )
    parser.add_argument("--root", action="append", default=[], help="a subject root (default: tickets); repeatable")
    arguments = parser.parse_args(argv)
    missing = [user for user in USERS if not os.environ.get(f"HOSTDESK_NATS_PASSWORD_{user.upper()}")]
    if missing:
        parser.error("no password for " + ", ".join(f"HOSTDESK_NATS_PASSWORD_{user.upper()}" for user in missing))
    passwords = {user: os.environ[f"HOSTDESK_NATS_PASSWORD_{user.upper()}"] for user in USERS}
    roots = [Subjects(root=root) for root in arguments.root or ["tickets"]]
    sys.stdout.write(f"authorization: {json.dumps(authorization_block(passwords, roots), indent=2)}\n")


if __name__ == "__main__":
    main()
