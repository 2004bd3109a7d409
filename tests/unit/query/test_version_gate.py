import pytest
from hostdesk_query.domain.gate import Decision, decide


def test_an_opening_event_creates_a_ticket_the_read_model_lacks() -> None:
    assert decide(current_version=None, event_version=1, opens=True) is Decision.APPLY


def test_an_event_of_a_ticket_the_read_model_lacks_waits_for_the_opening() -> None:
    assert decide(current_version=None, event_version=2, opens=False) is Decision.GAP


def test_the_next_version_applies() -> None:
    assert decide(current_version=4, event_version=5, opens=False) is Decision.APPLY


@pytest.mark.parametrize("event_version", [1, 3, 4])
def test_an_event_at_or_below_the_ticket_version_is_a_duplicate(event_version: int) -> None:
    assert decide(current_version=4, event_version=event_version, opens=False) is Decision.DUPLICATE


def test_an_event_beyond_the_next_version_is_a_gap() -> None:
    assert decide(current_version=4, event_version=6, opens=False) is Decision.GAP


def test_an_opening_event_of_a_ticket_already_there_is_a_duplicate() -> None:
    assert decide(current_version=3, event_version=1, opens=True) is Decision.DUPLICATE
