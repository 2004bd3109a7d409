"""The table's rows: each figure beside its target and limit, and the flags a reader must not miss."""

from __future__ import annotations

from dataclasses import replace

from hostdesk_devtools.bench.authorisation import AuthorisationCosts
from hostdesk_devtools.bench.lag import LagResult, LagSample
from hostdesk_devtools.bench.limits import RawLimits
from hostdesk_devtools.bench.phases import Phase
from hostdesk_devtools.bench.report import Results, Row, rows
from hostdesk_devtools.bench.stats import Sample, summarize
from hostdesk_devtools.bench.wrk import WrkRun


def wrk_run(rate: int, *, latency: float = 0.01, offered: float | None = None) -> WrkRun:
    samples = [Sample(n / rate, latency, 201) for n in range(rate)]
    return WrkRun(
        samples=samples,
        ticket_ids=[],
        seconds=1.0,
        socket_errors=0,
        cpu_seconds=0.1,
        connections=64,
        offered_rate=offered,
    )


def phase(kind: str, rate: int, *, offered: float | None = None, latency: float = 0.01) -> Phase:
    run = wrk_run(rate, latency=latency, offered=offered)
    return Phase(
        name=f"{kind} at {offered or 'saturation'}",
        kind=kind,
        offered_rate=offered,
        started_at=0.0,
        run=run,
        summary=summarize(run.samples, seconds=run.seconds),
        seconds=[],
    )


def results(*phases: Phase, ceiling: int = 1000) -> Results:
    limits = RawLimits(
        postgres_inserts=5000.0,
        jetstream_publishes=4000.0,
        http=wrk_run(ceiling),
        authorisation=AuthorisationCosts(token_us=1.0, caller_us=9.0, rule_us=1.0, accounts=20_101),
    )
    return Results(stamp="test", settings={}, limits=limits, phases=list(phases))


def row(table: list[Row], starting: str) -> Row:
    return next(row for row in table if row.figure.startswith(starting))


def test_a_figure_near_the_generators_ceiling_is_flagged_generator_bound() -> None:
    table = rows(results(phase("opens", 900), ceiling=1000))

    opens = row(table, "Tickets opened per second, at saturation")
    assert opens.value == "900/s"
    assert (opens.limit, opens.ratio) == ("HTTP 1,000/s", "90.0%")
    assert "generator-bound" in opens.note
    assert opens.meets is False


def test_what_a_phase_left_for_the_consumers_is_noted() -> None:
    given = replace(phase("opens", 300), left_behind={"tickets": 0, "notify": 4200, "query": 12}, drain_seconds=9.5)

    opens = row(rows(results(given)), "Tickets opened per second")

    assert "left unacknowledged: notify 4,200, query 12 (worked off in 9.5 s)" in opens.note


def test_opens_at_the_target_rate_are_judged_on_their_p99() -> None:
    table = rows(results(phase("opens", 500, offered=500.0, latency=0.02)))

    latency = table[table.index(row(table, "Tickets opened per second, at 500/s")) + 1]
    assert latency.value == "20.0 / 20.0 / 20.0"
    assert latency.meets is True


def test_a_mail_never_seen_makes_the_notification_p99_more_than_the_wait() -> None:
    given = results(phase("opens", 100))
    given.lag = LagResult(samples=[LagSample(0.0, 0.01, 0.02)] * 98 + [LagSample(0.0, 0.01, None)] * 2)

    notification = row(rows(given), "Notification lag")

    assert notification.value == "20.0 / > 30,000"
    assert notification.note.startswith("2 of 100 not received")
