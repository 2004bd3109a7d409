from datetime import UTC, datetime, timedelta

from hostdesk_notify.domain.retry import RetryPolicy

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_the_pause_after_each_failure_doubles() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=2.0, max_delay=1000.0)

    pauses = [policy.next_attempt_at(attempts=n, now=NOW) for n in (1, 2, 3)]

    assert pauses == [NOW + timedelta(seconds=s) for s in (2, 4, 8)]


def test_the_pause_never_exceeds_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=50, base_delay=2.0, max_delay=60.0)

    assert policy.next_attempt_at(attempts=30, now=NOW) == NOW + timedelta(seconds=60)


def test_a_mail_is_given_up_after_the_last_allowed_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)

    assert policy.next_attempt_at(attempts=3, now=NOW) is None
