"""The bench's measure of the authorisation check: it authenticates real tokens against a real in-memory
directory, and says so in its row."""

from __future__ import annotations

from hostdesk_devtools.bench.authorisation import authorisation_costs


async def test_the_check_is_timed_step_by_step_over_a_large_directory() -> None:
    costs = await authorisation_costs(calls=200)

    assert costs.accounts == 20_101
    assert costs.token_us > 0  # times are the bench's to report, never a test's to compare
    assert costs.caller_us > 0
    assert costs.rule_us > 0
    assert costs.per_request_us == costs.caller_us + costs.rule_us
