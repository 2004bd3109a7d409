"""Who may do what on NATS, as the permissions say it: the directory bucket is the tickets service's to declare and
write, the services' to read, and never the subscriber's (it holds the API keys' hashes)."""

from __future__ import annotations

import pytest
from hostdesk_contracts.runtime.nats_auth import PRODUCT_EVENT_CONSUMERS, SERVICES, permissions
from hostdesk_contracts.subjects import Subjects

SUBJECTS = Subjects("tickets")
DIRECTORY = SUBJECTS.directory_bucket
READ_KEY = f"$JS.API.DIRECT.GET.KV_{DIRECTORY}.$KV.{DIRECTORY}.principal.cust-1"
WRITE_KEY = f"$KV.{DIRECTORY}.principal.cust-1"
DECLARE = f"$JS.API.STREAM.CREATE.KV_{DIRECTORY}"


def allows(patterns: list[str], subject: str) -> bool:
    """Whether a NATS subject matches one of ``patterns`` (``*`` one token, ``>`` the rest)."""

    def matches(pattern: str) -> bool:
        wanted, tokens = pattern.split("."), subject.split(".")
        for index, token in enumerate(wanted):
            if token == ">":
                return len(tokens) > index
            if index >= len(tokens) or token not in ("*", tokens[index]):
                return False
        return len(wanted) == len(tokens)

    return any(matches(pattern) for pattern in patterns)


def test_the_matcher_tells_tokens_and_tails_apart() -> None:
    assert allows(["a.*.c"], "a.b.c")
    assert not allows(["a.*.c"], "a.b.c.d")
    assert allows(["a.>"], "a.b.c")
    assert not allows(["a.>"], "a")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_reads_the_directory_bucket(service: str) -> None:
    allowed = permissions(service, SUBJECTS).publish

    assert allows(allowed, READ_KEY)
    assert allows(allowed, f"$JS.API.STREAM.INFO.KV_{DIRECTORY}")


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "tickets"])
def test_only_the_tickets_service_declares_and_writes_the_directory_bucket(service: str) -> None:
    tickets = permissions("tickets", SUBJECTS).publish
    other = permissions(service, SUBJECTS).publish

    assert allows(tickets, DECLARE)
    assert allows(tickets, WRITE_KEY)
    assert not allows(other, DECLARE)
    assert not allows(other, WRITE_KEY)


def test_the_subscriber_may_not_read_the_directory_bucket_nor_take_the_projectors_messages() -> None:
    subscriber = permissions("subscriber", SUBJECTS)

    assert not allows(subscriber.publish, READ_KEY)
    assert not allows(subscriber.publish, f"$JS.API.STREAM.MSG.GET.KV_{DIRECTORY}")
    assert not allows(subscriber.publish, f"$JS.API.STREAM.INFO.KV_{DIRECTORY}")
    assert not allows(subscriber.subscribe, f"$KV.{DIRECTORY}.>")
    assert "directory" in PRODUCT_EVENT_CONSUMERS
    assert allows(subscriber.publish_deny, f"$JS.API.CONSUMER.MSG.NEXT.{SUBJECTS.events_stream}.directory")


RATES = SUBJECTS.rates_bucket
READ_COUNTER = f"$JS.API.DIRECT.GET.KV_{RATES}.$KV.{RATES}.open.3600.account.0f1e2d.493218"
WRITE_COUNTER = f"$KV.{RATES}.open.3600.account.0f1e2d.493218"


def test_intake_reads_and_writes_the_rates_bucket() -> None:
    intake = permissions("intake", SUBJECTS).publish

    assert allows(intake, f"$JS.API.STREAM.INFO.KV_{RATES}")
    assert allows(intake, READ_COUNTER)
    assert allows(intake, f"$JS.API.STREAM.MSG.GET.KV_{RATES}")
    assert allows(intake, WRITE_COUNTER)
    assert not allows(intake, f"$JS.API.STREAM.CREATE.KV_{RATES}")


def test_the_tickets_service_declares_the_rates_bucket_but_neither_reads_nor_writes_a_counter() -> None:
    tickets = permissions("tickets", SUBJECTS).publish

    assert allows(tickets, f"$JS.API.STREAM.CREATE.KV_{RATES}")
    assert not allows(tickets, READ_COUNTER)
    assert not allows(tickets, f"$JS.API.STREAM.MSG.GET.KV_{RATES}")
    assert not allows(tickets, WRITE_COUNTER)


@pytest.mark.parametrize("user", ["query", "notify", "subscriber"])
def test_nobody_else_touches_the_rates_bucket(user: str) -> None:
    allowed = permissions(user, SUBJECTS)

    assert not allows(allowed.publish, f"$JS.API.STREAM.INFO.KV_{RATES}")
    assert not allows(allowed.publish, READ_COUNTER)
    assert not allows(allowed.publish, f"$JS.API.STREAM.MSG.GET.KV_{RATES}")
    assert not allows(allowed.publish, WRITE_COUNTER)
    assert not allows(allowed.subscribe, f"$KV.{RATES}.>")


ATTACHMENTS = SUBJECTS.attachments_bucket
UPLOADS = SUBJECTS.uploads_bucket
STORE_CHUNK = f"$O.{ATTACHMENTS}.C.9f8e7d6c5b4a"
READ_FILE = f"$JS.API.STREAM.MSG.GET.OBJ_{ATTACHMENTS}"


def test_intake_stores_attachments_and_keeps_its_uploads() -> None:
    intake = permissions("intake", SUBJECTS).publish

    assert allows(intake, STORE_CHUNK)
    assert allows(intake, f"$O.{ATTACHMENTS}.M.bmFtZQ==")
    assert allows(intake, READ_FILE)
    assert allows(intake, f"$KV.{UPLOADS}.upload.att_0f")
    assert not allows(intake, f"$JS.API.STREAM.CREATE.OBJ_{ATTACHMENTS}")
    assert not allows(intake, f"$JS.API.STREAM.DELETE.OBJ_{ATTACHMENTS}")


@pytest.mark.parametrize("service", ["query", "notify"])
def test_query_and_notify_read_attachments_and_store_none(service: str) -> None:
    allowed = permissions(service, SUBJECTS).publish

    assert allows(allowed, READ_FILE)
    assert allows(allowed, f"$JS.API.CONSUMER.CREATE.OBJ_{ATTACHMENTS}")
    assert not allows(allowed, STORE_CHUNK)
    assert not allows(allowed, f"$KV.{UPLOADS}.upload.att_0f")


def test_the_tickets_service_declares_the_attachment_store_and_the_uploads_bucket_and_reads_neither() -> None:
    tickets = permissions("tickets", SUBJECTS).publish

    assert allows(tickets, f"$JS.API.STREAM.CREATE.OBJ_{ATTACHMENTS}")
    assert allows(tickets, f"$JS.API.STREAM.CREATE.KV_{UPLOADS}")
    assert not allows(tickets, READ_FILE)
    assert not allows(tickets, STORE_CHUNK)


def test_a_subscriber_never_reads_an_attachment() -> None:
    subscriber = permissions("subscriber", SUBJECTS).publish

    assert not allows(subscriber, READ_FILE)
    assert not allows(subscriber, f"$JS.API.CONSUMER.CREATE.OBJ_{ATTACHMENTS}")
