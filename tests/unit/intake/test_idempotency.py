"""What a request with an Idempotency-Key is judged by: the digest of what it asks, and the record of its key."""

from __future__ import annotations

from hostdesk_contracts.base import Actor, Role
from hostdesk_intake.domain.idempotency import KeyRecord, request_digest

from .builders import CUSTOMER

BODY = b'{"subject": "VPS down", "body": "vps-1042 does not answer."}'


def digest(*, body: bytes = BODY, actor: Actor = CUSTOMER, expected_version: int | None = None) -> str:
    return request_digest(method="POST", path="/v1/tickets", body=body, expected_version=expected_version, actor=actor)


def test_how_the_caller_is_displayed_is_not_part_of_what_they_asked() -> None:
    renamed = CUSTOMER.model_copy(update={"display_name": "Ada Lovelace", "email": "ada@lovelace.example"})

    assert digest(actor=renamed) == digest()


def test_the_callers_role_is_part_of_what_they_asked() -> None:
    as_agent = CUSTOMER.model_copy(update={"role": Role.AGENT})

    assert digest(actor=as_agent) != digest()


def test_another_body_or_another_expected_version_is_another_request() -> None:
    assert digest(body=b'{"subject": "VPS down", "body": "Something else."}') != digest()
    assert digest(expected_version=3) != digest()


def test_a_body_that_is_not_json_still_has_a_digest() -> None:
    assert digest(body=b"\xff{not json") != digest(body=b"\xfe{not json")


def test_a_record_reads_back_as_written() -> None:
    record = KeyRecord.of(CUSTOMER, "abc")

    assert KeyRecord.from_json(record.to_json()) == record


def test_a_stored_value_that_is_not_a_record_reads_as_none() -> None:
    assert KeyRecord.from_json(b"\x00garbage") is None
    assert KeyRecord.from_json(b'{"tenant": 3, "account_id": "x"}') is None
    assert KeyRecord.from_json(b"[]") is None


def test_a_record_is_the_callers_only_in_their_tenant() -> None:
    record = KeyRecord.of(CUSTOMER, None)

    assert record.belongs_to(CUSTOMER)
    assert not record.belongs_to(CUSTOMER.model_copy(update={"tenant": "globex"}))
    assert not record.belongs_to(CUSTOMER.model_copy(update={"account_id": "cust-2001"}))
