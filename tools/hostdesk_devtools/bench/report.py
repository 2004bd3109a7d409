"""The results of a run: the table's rows (each figure beside its target and its raw limit), the table as
``rich`` prints it, and the JSON written next to the chart."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table

from hostdesk_devtools.bench.cpu import MACHINE
from hostdesk_devtools.bench.files import FileTransfers
from hostdesk_devtools.bench.lag import NOTIFICATION_WAIT_SECONDS, PROJECTION_WAIT_SECONDS, LagResult
from hostdesk_devtools.bench.limits import RawLimits
from hostdesk_devtools.bench.mail_in import MailIngest
from hostdesk_devtools.bench.mail_out import MailOut
from hostdesk_devtools.bench.mailboxes import MailboxPolling
from hostdesk_devtools.bench.phases import Phase
from hostdesk_devtools.bench.rebuild import Rebuild
from hostdesk_devtools.bench.stats import Limit, LoadSummary, Quantiles, judge, summarize

TARGET_OPENS_PER_SECOND = 1_000
TARGET_RATE_FOR_LATENCY = 500
TARGET_P99_MS = 50
TARGET_PROJECTION_P99_MS = 100
TARGET_REBUILD_PER_SECOND = 20_000
TARGET_RSS_MB = 200

KIND_LABELS = {"opens": "Tickets opened", "replies": "Replies posted"}


@dataclass
class Results:
    stamp: str
    settings: dict[str, Any]
    limits: RawLimits
    phases: list[Phase] = field(default_factory=list)
    lag: LagResult | None = None
    rebuild: Rebuild | None = None
    mail_in: MailIngest | None = None
    mailboxes: MailboxPolling | None = None
    files: FileTransfers | None = None
    mail_out: MailOut | None = None
    memory_mb: dict[str, float] = field(default_factory=dict)

    @property
    def ceiling(self) -> LoadSummary:
        http = self.limits.http
        return summarize(http.samples, seconds=http.seconds, extra_failures=http.socket_errors)

    @property
    def http_limit(self) -> Limit:
        """Every open and reply is one HTTP request: the trivial endpoint, one process, is the generator's ceiling
        and one intake process's; several intake processes sharing a port may pass it.
        (The single-operation PostgreSQL and JetStream figures are no such cap: the services batch both.)"""
        return Limit("HTTP", self.ceiling.rate)


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    target: str = ""
    limit: str = ""
    ratio: str = ""
    note: str = ""
    meets: bool | None = None  # None: no target


def _rate(value: float) -> str:
    return f"{value:,.0f}/s"


def _ms(value: float, *, wait: float | None = None) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "n/a" if wait is None else f"> {wait * 1000:,.0f}"
    return f"{value:,.1f}"


def _p50_p99(quantiles: Quantiles, *, wait: float) -> str:
    return f"{_ms(quantiles.p50, wait=wait)} / {_ms(quantiles.p99, wait=wait)}"


def cpu_note(used: dict[str, float], *, most: int = 6) -> str:
    """The processes that used the most CPU, and the machine as a whole (other work on it included)."""
    processes = sorted(((n, c) for n, c in used.items() if n != MACHINE), key=lambda item: item[1], reverse=True)
    parts = [f"{name} {share:.2f}" for name, share in processes[:most] if share >= 0.01]
    machine = f"; machine {used[MACHINE]:.2f}" if MACHINE in used else ""
    return "CPU cores: " + ", ".join(parts) + machine


def _limit_rows(results: Results) -> list[Row]:
    ceiling = results.ceiling
    http = results.limits.http
    return [
        Row(
            "HTTP: trivial uvicorn endpoint, 1 process (also the generator's ceiling)",
            f"{_rate(ceiling.rate)}, p99 {_ms(ceiling.latency_ms.p99)} ms",
            note=f"wrk {http.connections} connections, {http.cpu_cores:.2f} cores",
        ),
        Row("PostgreSQL: single-row durable INSERTs (asyncpg)", _rate(results.limits.postgres_inserts)),
        Row("JetStream: publishes awaiting each ack (nats-py)", _rate(results.limits.jetstream_publishes)),
        _authorisation_row(results),
    ]


def _authorisation_row(results: Results) -> Row:
    """The product's check of a request (token, directory, the rule of who sees a ticket), in process, and its share
    of one request's time at the trivial endpoint's rate (one process)."""
    costs = results.limits.authorisation
    share = costs.per_request_us * results.ceiling.rate / 1e6 if results.ceiling.rate else 0.0
    return Row(
        "Authorisation check of a request (in process)",
        f"{costs.per_request_us:.1f} µs",
        ratio=f"{share:.1%} of a trivial request",
        note=f"token {costs.token_us:.1f} µs (remembered), token and directory {costs.caller_us:.1f} µs, "
        f"who sees the ticket {costs.rule_us:.1f} µs; {costs.accounts:,} accounts",
    )


def _phase_rows(results: Results, phase: Phase) -> list[Row]:
    summary = phase.summary
    limit = results.http_limit
    verdict = judge(summary.rate, limit=limit, ceiling=results.ceiling.rate, offered=phase.offered_rate)
    notes = list(verdict.notes)
    if summary.others:
        notes.append("other answers " + ", ".join(f"{status or 'none'}: {n}" for status, n in summary.others.items()))
    if phase.offered_rate is None and phase.cpu_cores:
        notes.append(cpu_note(phase.cpu_cores))
    else:
        notes.append(f"wrk {phase.run.cpu_cores:.2f} cores")
    left = {consumer: count for consumer, count in phase.left_behind.items() if count}
    if left:
        backlog = ", ".join(f"{consumer} {count:,}" for consumer, count in left.items())
        notes.append(f"left unacknowledged: {backlog} (worked off in {phase.drain_seconds:.1f} s)")
    label = KIND_LABELS[phase.kind]
    if phase.offered_rate is None:
        where = f"at saturation ({phase.run.connections} connections)"
    else:
        where = f"at {phase.offered_rate:,.0f}/s offered"
    at_target_rate = phase.kind == "opens" and phase.offered_rate == TARGET_RATE_FOR_LATENCY
    saturated_opens = phase.kind == "opens" and phase.offered_rate is None
    latency = summary.latency_ms
    return [
        Row(
            f"{label} per second, {where}",
            _rate(summary.rate),
            target=f">= {_rate(TARGET_OPENS_PER_SECOND)}" if saturated_opens else "",
            limit=f"{limit.name} {_rate(limit.per_second)}",
            ratio="" if verdict.ratio is None else f"{verdict.ratio:.1%}",
            note="; ".join(notes),
            meets=summary.rate >= TARGET_OPENS_PER_SECOND if saturated_opens else None,
        ),
        Row(
            "  its 201 latency p50 / p95 / p99 (ms)",
            f"{_ms(latency.p50)} / {_ms(latency.p95)} / {_ms(latency.p99)}",
            target=f"p99 < {TARGET_P99_MS} ms" if at_target_rate else "",
            meets=latency.p99 < TARGET_P99_MS if at_target_rate else None,
        ),
    ]


def _lag_rows(lag: LagResult) -> list[Row]:
    projection, notification = lag.projection_ms, lag.notification_ms
    missing = lag.missing
    return [
        Row(
            "Projection lag, 201 to visible in query, p50 / p99 (ms)",
            _p50_p99(projection, wait=PROJECTION_WAIT_SECONDS),
            target=f"p99 < {TARGET_PROJECTION_P99_MS} ms",
            note=f"{len(lag.samples)} samples beside the opens at {TARGET_RATE_FOR_LATENCY}/s "
            f"(the sampler's own load: {lag.requests / lag.seconds if lag.seconds else 0:,.0f} requests/s); "
            f"{missing['projection']} not seen within {PROJECTION_WAIT_SECONDS:.0f} s",
            meets=projection.p99 < TARGET_PROJECTION_P99_MS,
        ),
        Row(
            "Notification lag, reply 201 to mail at the SMTP sink, p50 / p99 (ms)",
            _p50_p99(notification, wait=NOTIFICATION_WAIT_SECONDS),
            note=f"{missing['notification']} of {len(lag.samples)} not received within "
            f"{NOTIFICATION_WAIT_SECONDS:.0f} s",
        ),
    ]


def _mailbox_rows(polling: MailboxPolling) -> list[Row]:
    return [
        Row(
            "IMAP: bare imaplib client, fetch and delete, 1 session (the server's and a client's ceiling)",
            _rate(polling.bare_rate),
            note=f"{polling.count:,} messages from Dovecot",
        ),
        Row(
            "Support mail polled by intake over IMAP, mailbox put to last ticket in query (per second)",
            _rate(polling.intake_rate),
            limit=f"bare IMAP {_rate(polling.bare_rate)}",
            ratio=f"{polling.intake_rate / polling.bare_rate:.1%}" if polling.bare_rate else "",
            note=f"{polling.visible:,} of {polling.count:,} in query; {polling.left} left in the mailbox",
        ),
    ]


def _mail_in_rows(mail: MailIngest) -> list[Row]:
    bare, intake = mail.bare, mail.intake
    ratio = f"{intake.rate / bare.rate:.1%}" if bare.rate else ""
    end_to_end = mail.end_to_end_ms
    return [
        Row(
            "SMTP: bare aiosmtpd server, 1 process (also the client's ceiling)",
            f"{_rate(bare.rate)}, p99 {_ms(bare.latency_ms.p99)} ms",
            note=f"{len(bare.accepted):,} mails; {bare.refused} refused",
        ),
        Row(
            "Support mail accepted by intake's listener per second (250)",
            _rate(intake.rate),
            limit=f"bare SMTP {_rate(bare.rate)}",
            ratio=ratio,
            note=f"{len(intake.accepted):,} mails, each from a new sender; {intake.refused} refused; "
            f"250 p50 / p99 {_p50_p99(intake.latency_ms, wait=mail.wait)} ms",
        ),
        Row(
            "Support mail ingested end to end, first mail sent to last ticket in query (per second)",
            _rate(mail.end_to_end_rate),
            limit=f"bare SMTP {_rate(bare.rate)}",
            ratio=f"{mail.end_to_end_rate / bare.rate:.1%}" if bare.rate else "",
        ),
        Row(
            "  each mail's 250 to its ticket in query, p50 / p99 (ms)",
            _p50_p99(end_to_end, wait=mail.wait),
            note=f"{mail.missing} not seen within {mail.wait:.0f} s of the last 250",
        ),
    ]


def _mail_out_rows(mail: MailOut) -> list[Row]:
    sink = mail.sink
    missing = len(mail.lags) - mail.mails
    return [
        Row(
            "SMTP sink (in the bench process), mails straight to it per second",
            _rate(sink.rate),
            note=f"{len(sink.accepted):,} mails; {sink.refused} refused",
        ),
        Row(
            "Mail sent by notify per second, replies posted at full speed",
            _rate(mail.rate),
            limit=f"sink {_rate(sink.rate)}",
            ratio=f"{mail.rate / sink.rate:.1%}" if sink.rate else "",
            note=f"{mail.replies:,} public replies to {mail.replies // 5:,} tickets, posted at "
            f"{_rate(mail.reply_rate)}; {missing} mails not received within {mail.wait:.0f} s",
        ),
        Row("  each reply's 201 to its mail at the sink, p50 / p99 (ms)", _p50_p99(mail.lag_ms, wait=mail.wait)),
    ]


def _mb_s(value: float) -> str:
    return f"{value:,.1f} MB/s"


def _file_rows(files: FileTransfers) -> list[Row]:
    raw, product = files.raw, files.product
    note = f"{files.files} files of 1 MiB, {files.concurrency} at once"
    return [
        Row("Object store (NATS): put / get, nats-py", f"{_mb_s(raw.up_mb_s)} / {_mb_s(raw.down_mb_s)}", note=note),
        Row(
            "Attachments uploaded to intake (MB/s)",
            _mb_s(product.up_mb_s),
            limit=f"object store put {_mb_s(raw.up_mb_s)}",
            ratio=f"{product.up_mb_s / raw.up_mb_s:.1%}" if raw.up_mb_s else "",
            note=note + ", one a request",
        ),
        Row(
            "Attachments downloaded from query (MB/s)",
            _mb_s(product.down_mb_s),
            limit=f"object store get {_mb_s(raw.down_mb_s)}",
            ratio=f"{product.down_mb_s / raw.down_mb_s:.1%}" if raw.down_mb_s else "",
            note=note + ", each checked byte for byte",
        ),
    ]


def _rebuild_row(results: Results, rebuild: Rebuild) -> Row:
    postgres = Limit("PostgreSQL", results.limits.postgres_inserts)
    verdict = judge(rebuild.rate, limit=postgres, ceiling=0)
    note = f"{rebuild.applied:,} of {rebuild.events:,} events; {rebuild.seconds_from_start:.1f} s with start-up"
    if rebuild.cpu_cores:
        note += "; " + cpu_note(rebuild.cpu_cores)
    if not rebuild.complete:
        note += "; INCOMPLETE"
    return Row(
        "Read model rebuilt from the event log (events/s)",
        _rate(rebuild.rate),
        target=f">= {_rate(TARGET_REBUILD_PER_SECOND)}",
        limit=f"{postgres.name} {_rate(postgres.per_second)}",
        ratio="" if verdict.ratio is None else f"{verdict.ratio:.1%}",
        note=note,
        meets=rebuild.rate >= TARGET_REBUILD_PER_SECOND,
    )


def rows(results: Results) -> list[Row]:
    table = _limit_rows(results)
    for phase in results.phases:
        table.extend(_phase_rows(results, phase))
    if results.lag is not None:
        table.extend(_lag_rows(results.lag))
    if results.mail_in is not None:
        table.extend(_mail_in_rows(results.mail_in))
    if results.mailboxes is not None:
        table.extend(_mailbox_rows(results.mailboxes))
    if results.mail_out is not None:
        table.extend(_mail_out_rows(results.mail_out))
    if results.files is not None:
        table.extend(_file_rows(results.files))
    if results.rebuild is not None:
        table.append(_rebuild_row(results, results.rebuild))
    for name, peak in results.memory_mb.items():
        target = f"< {TARGET_RSS_MB} MB"
        table.append(Row(f"Peak resident memory: {name}", f"{peak:,.0f} MB", target=target, meets=peak < TARGET_RSS_MB))
    return table


def table(results: Results) -> Table:
    machine = results.settings.get("machine", {})
    start, end = machine.get("load_average_at_start"), machine.get("load_average_at_end")
    caption = (
        f"{machine.get('cpus', '?')} CPUs; load average {start[0]:.2f} before the run, {end[0]:.2f} after (work "
        "other than the run's skews every figure). Targets are goals, not assertions. Ratio: figure / raw limit."
        if start and end
        else None
    )
    view = Table(title=f"HostDesk benchmark {results.stamp}", caption=caption, show_lines=False, expand=False)
    for column in ("figure", "value", "target", "limit", "ratio", "note"):
        view.add_column(column, overflow="fold")
    for row in rows(results):
        target = row.target
        if row.meets is not None:
            target = f"[green]{target} ✓[/]" if row.meets else f"[red]{target} ✗[/]"
        view.add_row(row.figure, row.value, target, row.limit, row.ratio, row.note)
    return view


def _phase_json(phase: Phase) -> dict[str, Any]:
    return {
        "name": phase.name,
        "kind": phase.kind,
        "offered_rate": phase.offered_rate,
        "connections": phase.run.connections,
        "wrk_seconds": phase.run.seconds,
        "wrk_cpu_cores": phase.run.cpu_cores,
        "left_behind": phase.left_behind,
        "drain_seconds": phase.drain_seconds,
        "cpu_cores": phase.cpu_cores,
        "summary": {**asdict(phase.summary), "rate": phase.summary.rate},
        "per_second": [asdict(second) for second in phase.seconds],
    }


def to_json(results: Results) -> dict[str, Any]:
    ceiling = results.ceiling
    lag = results.lag
    return {
        "stamp": results.stamp,
        "settings": results.settings,
        "limits": {
            "http_trivial_per_second": ceiling.rate,
            "http_trivial": asdict(ceiling),
            "generator_cpu_cores": results.limits.http.cpu_cores,
            "postgres_inserts_per_second": results.limits.postgres_inserts,
            "jetstream_publishes_per_second": results.limits.jetstream_publishes,
            "authorisation_us": asdict(results.limits.authorisation),
        },
        "phases": [_phase_json(phase) for phase in results.phases],
        "lag": None
        if lag is None
        else {
            "projection_ms": asdict(lag.projection_ms),
            "notification_ms": asdict(lag.notification_ms),
            "missing": lag.missing,
            "sampler_requests": lag.requests,
            "sampler_seconds": lag.seconds,
            "samples": [asdict(sample) for sample in lag.samples],
        },
        "mail_in": None if results.mail_in is None else _mail_in_json(results.mail_in),
        "mailboxes": None
        if results.mailboxes is None
        else {
            **asdict(results.mailboxes),
            "bare_per_second": results.mailboxes.bare_rate,
            "intake_per_second": results.mailboxes.intake_rate,
        },
        "mail_out": None
        if results.mail_out is None
        else {
            "sink_per_second": results.mail_out.sink.rate,
            "sent_per_second": results.mail_out.rate,
            "replies_per_second": results.mail_out.reply_rate,
            "lag_ms": asdict(results.mail_out.lag_ms),
            "mails": results.mail_out.mails,
            "replies": results.mail_out.replies,
        },
        "files": None
        if results.files is None
        else {
            "raw_put_mb_s": results.files.raw.up_mb_s,
            "raw_get_mb_s": results.files.raw.down_mb_s,
            "upload_mb_s": results.files.product.up_mb_s,
            "download_mb_s": results.files.product.down_mb_s,
            "files": results.files.files,
            "concurrency": results.files.concurrency,
        },
        "rebuild": None if results.rebuild is None else {**asdict(results.rebuild), "rate": results.rebuild.rate},
        "peak_rss_mb": results.memory_mb,
        "table": [asdict(row) for row in rows(results)],
    }


def _mail_in_json(mail: MailIngest) -> dict[str, Any]:
    return {
        "bare_per_second": mail.bare.rate,
        "bare_250_ms": asdict(mail.bare.latency_ms),
        "intake_per_second": mail.intake.rate,
        "intake_250_ms": asdict(mail.intake.latency_ms),
        "end_to_end_per_second": mail.end_to_end_rate,
        "end_to_end_ms": asdict(mail.end_to_end_ms),
        "mails": len(mail.intake.accepted),
        "refused": {"bare": mail.bare.refused, "intake": mail.intake.refused},
        "missing": mail.missing,
    }


def _finite(value: Any) -> Any:
    """NaN (a percentile of nothing) as null: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def dumps(results: Results) -> str:
    return json.dumps(_finite(to_json(results)), indent=2)
