"""Which command a request becomes: the same Idempotency-Key from the same account is the same command."""

from __future__ import annotations

from uuid import UUID

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.commands import ticket_id_for
from hostdesk_intake.domain.commands import command_id_for

from .builders import CUSTOMER, OTHER_CUSTOMER


def test_the_same_key_from_the_same_account_is_the_same_command_and_the_same_ticket() -> None:
    first = command_id_for(CUSTOMER, "order-77")
    second = command_id_for(CUSTOMER, "order-77")

    assert first == second
    assert ticket_id_for(first) == ticket_id_for(second)


def test_the_command_id_is_a_uuid5_of_tenant_account_and_key() -> None:
    command_id = command_id_for(CUSTOMER, "order-77")

    assert UUID(command_id).version == 5


def test_another_key_is_another_command() -> None:
    assert command_id_for(CUSTOMER, "order-77") != command_id_for(CUSTOMER, "order-78")


def test_another_account_with_the_same_key_is_another_command() -> None:
    assert command_id_for(CUSTOMER, "order-77") != command_id_for(OTHER_CUSTOMER, "order-77")


def test_the_same_account_id_in_another_tenant_is_another_command() -> None:
    elsewhere = Actor(account_id=CUSTOMER.account_id, tenant="globex", role=Role.CUSTOMER)

    assert command_id_for(CUSTOMER, "order-77") != command_id_for(elsewhere, "order-77")


def test_without_a_key_every_request_is_a_new_command() -> None:
    fixed = UUID("00000000-0000-4000-8000-000000000001")

    command_id = command_id_for(CUSTOMER, None, new_id=lambda: fixed)

    assert command_id == str(fixed)
    assert command_id_for(CUSTOMER, None) != command_id_for(CUSTOMER, None)


def test_an_account_and_key_that_join_alike_are_two_commands() -> None:
    col = Actor(account_id="col", tenant="acme", role=Role.CUSTOMER)
    col_a = Actor(account_id="col:a", tenant="acme", role=Role.CUSTOMER)

    assert command_id_for(col, "a:X") != command_id_for(col_a, "X")
