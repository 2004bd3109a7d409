"""``make bench``: the system's figures beside the machine's raw limits, measured in one run.

``python -m hostdesk_devtools.bench [--quick] [--seconds N] [--connections N]``

Starts its own system (like ``make run``, on free ports, with a fresh database and subject root, removed at
the end), measures the raw limits, then drives intake with wrk through phases bounded in time and requests,
samples the projection and notification lags beside the load, rebuilds a read model from the event log, and
prints a table; JSON and a PNG chart go to ``bench/results/<stamp>.{json,png}``. Loopback only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hostdesk_devtools import callers
from hostdesk_devtools.bench.authorisation import authorisation_costs
from hostdesk_devtools.bench.chart import draw
from hostdesk_devtools.bench.cpu import CpuMeter, cores
from hostdesk_devtools.bench.files import file_transfers
from hostdesk_devtools.bench.lag import LagResult, LagSampler, MailClock
from hostdesk_devtools.bench.limits import RawLimits, jetstream_publishes, postgres_inserts, trivial_endpoint
from hostdesk_devtools.bench.mail_in import mail_ingest
from hostdesk_devtools.bench.mail_out import mail_out
from hostdesk_devtools.bench.mailboxes import mailbox_polling
from hostdesk_devtools.bench.memory import PeakMemory
from hostdesk_devtools.bench.options import Options, describe, parse_options
from hostdesk_devtools.bench.phases import Phase, Settled, load_phase, quiesce
from hostdesk_devtools.bench.rebuild import rebuild_read_model
from hostdesk_devtools.bench.report import TARGET_RATE_FOR_LATENCY, Results, dumps, table
from hostdesk_devtools.bench.stage import Stage, close_stage, open_stage, operator, start_intakes
from hostdesk_devtools.bench.traffic import (
    MAILBOX_ADDRESS,
    SUPPORT_ADDRESS,
    TENANT,
    bench_callers,
    customer_token,
    open_requests,
    reply_requests,
)
from hostdesk_devtools.bench.wrk import GeneratorMissing, Request, ensure_wrk

IDS_PER_CONNECTION = 64  # tickets each connection of the opens phase keeps for the replies phases
RESULTS_DIR = Path("bench") / "results"
RUN_DIR = Path(".run") / "bench"
LAG_START_SECONDS = 0.5  # the lag samples begin once wrk's load is under way


class Bench:
    """One run: the phases in order, each a step of the progress bar."""

    def __init__(self, stage: Stage, options: Options, *, mail: MailClock, progress: Progress, folder: Path) -> None:
        self.stage = stage
        self.options = options
        self.mail = mail
        self.progress = progress
        self.task = progress.add_task("starting", total=options.steps)
        self.steps_begun = 0
        self.folder = folder
        self.memory = PeakMemory()
        self.cpu = CpuMeter(database=stage.database)
        self.results: Results | None = None

    def step(self, description: str) -> None:
        """The previous step is done (if any), this one begins."""
        if self.steps_begun:
            self.progress.advance(self.task)
        self.steps_begun += 1
        self.progress.update(self.task, description=description)

    async def run(self, settings: dict[str, Any]) -> Results:
        stage = self.stage
        accounts = bench_callers(stamp=stage.stamp, lag_samples=self.options.lag_samples)
        await callers.record(stage.nats.url_as("admin"), stage.subjects, accounts)
        limits = await self.raw_limits()
        self.results = results = Results(stamp=self.stage.stamp, settings=settings, limits=limits)
        try:
            await self.load(results)
            self.step("rebuilding a read model from the event log")
            results.rebuild = await rebuild_read_model(
                self.stage, memory=self.memory, cpu=self.cpu, within=self.options.rebuild_within
            )
            self.progress.advance(self.task)
        finally:
            self.memory.stop()
            results.memory_mb = self.memory.peaks_mb()
            results.settings["machine"]["load_average_at_end"] = os.getloadavg()
        return results

    async def raw_limits(self) -> RawLimits:
        options, stage = self.options, self.stage
        self.step("raw limit: PostgreSQL single-row inserts")
        postgres = await postgres_inserts(stage.database_url, seconds=options.limit_seconds)
        self.step("raw limit: JetStream acknowledged publishes")
        jetstream = await jetstream_publishes(
            stage.nats.url_as("admin"), root=stage.subjects.root, seconds=options.limit_seconds
        )
        self.step("raw limit: trivial HTTP endpoint (the generator's ceiling)")
        stage.config.log_dir.mkdir(parents=True, exist_ok=True)
        http = await trivial_endpoint(
            open_requests(stage.secret),
            folder=self.folder / "ceiling",
            connections=options.connections,
            seconds=options.http_limit_seconds,
            log=stage.config.log_dir / "trivial.log",
        )
        self.step("the authorisation check of a request, in process")
        authorisation = await authorisation_costs()
        return RawLimits(
            postgres_inserts=postgres, jetstream_publishes=jetstream, http=http, authorisation=authorisation
        )

    async def settle(self) -> Settled:
        return await quiesce(self.stage.nats.url_as("admin"), self.stage.subjects, within=self.options.settle_within)

    async def phase(
        self,
        name: str,
        kind: str,
        requests: list[Request],
        *,
        rate: float | None = None,
        keep_ids: int = 0,
        sample_lag: bool = False,
    ) -> Phase:
        """A phase of load, with lag samples taken beside it if asked; then the wait until the system has worked
        off what the phase left behind (so that each phase starts from a quiet system)."""
        self.step(name)
        load = load_phase(
            name,
            kind,
            url=self.stage.url("intake"),
            requests=requests,
            folder=self.folder / name.replace(" ", "-").replace("/", "-"),
            connections=self.options.connections,
            seconds=self.options.seconds,
            rate=rate,
            keep_ids=keep_ids,
        )
        before = self.cpu.snapshot()
        if sample_lag:
            measured, lag = await asyncio.gather(load, self.sample_lag())
            if self.results is not None:
                self.results.lag = lag
        else:
            measured = await load
        used = {**cores(before, self.cpu.snapshot()), "wrk": measured.run.cpu_cores}
        settled = await self.settle()
        return replace(measured, left_behind=settled.left, drain_seconds=settled.seconds, cpu_cores=used)

    async def sample_lag(self) -> LagResult:
        """Samples spread over the first three quarters of a phase, once the load has begun."""
        stage, options = self.stage, self.options
        sampler = LagSampler(
            intake_url=stage.url("intake"),
            query_url=stage.url("query"),
            secret=stage.secret,
            mail=self.mail,
            stamp=stage.stamp,
        )
        await asyncio.sleep(LAG_START_SECONDS)
        return await sampler.run(count=options.lag_samples, rate=options.lag_samples / (options.seconds * 0.75))

    async def load(self, results: Results) -> None:
        stage, options = self.stage, self.options
        self.step("starting the services")
        await asyncio.to_thread(stage.system.start)
        await asyncio.to_thread(start_intakes, stage.system, options.intake_processes)
        for name, process in stage.system.processes.items():
            self.memory.watch(name, process.pid)
            self.cpu.watch(name, process.pid)
        self.memory.start()
        opens = open_requests(stage.secret)
        self.step("warm-up")
        await load_phase(
            "warm-up",
            "opens",
            url=stage.url("intake"),
            requests=opens,
            folder=self.folder / "warm-up",
            connections=options.connections,
            seconds=options.warmup_seconds,
        )
        await self.settle()
        saturated = await self.phase("opens at saturation", "opens", opens, keep_ids=IDS_PER_CONNECTION)
        results.phases.append(saturated)
        for rate in options.open_rates:
            sample_lag = rate == TARGET_RATE_FOR_LATENCY
            results.phases.append(
                await self.phase(f"opens at {rate:,.0f}/s", "opens", opens, rate=rate, sample_lag=sample_lag)
            )
        ticket_ids = saturated.run.ticket_ids
        if not ticket_ids:
            raise RuntimeError("no ticket was opened at saturation: nothing to reply to")
        while len(ticket_ids) < options.connections:
            ticket_ids = ticket_ids * 2
        replies = reply_requests(stage.secret, ticket_ids)
        results.phases.append(await self.phase("replies at saturation", "replies", replies))
        for rate in options.reply_rates:
            results.phases.append(await self.phase(f"replies at {rate:,.0f}/s", "replies", replies, rate=rate))
        self.step("support mail in: a bare SMTP server, then intake's listener to query")
        # Through the product, as an operator does: mail makes guest requesters under the provider it is written to,
        # and the tickets service makes them only under an organisation it holds.
        provider = ["accounts", "put", TENANT, "--kind", "provider", "--name", f"Provider {TENANT}"]
        await asyncio.to_thread(operator, stage, *provider)
        await asyncio.to_thread(operator, stage, "support-addresses", "put", SUPPORT_ADDRESS, "--organisation", TENANT)
        results.mail_in = await mail_ingest(
            stamp=stage.stamp,
            intake_port=stage.config.mail_port,
            database_url=stage.database_url,
            tenant=TENANT,
            to=SUPPORT_ADDRESS,
            count=options.mails,
            connections=options.mail_connections,
            wait=options.settle_within,
            log=stage.config.log_dir / "bare-smtp.log",
        )
        await self.settle()
        self.step("support mail polled: a bare IMAP client, then intake's poller to query")

        def give_mailbox(url: str, password_file: Path) -> None:
            arguments = ["--mailbox", url, "--password-file", str(password_file), "--interval", "10"]
            operator(stage, "support-addresses", "put", MAILBOX_ADDRESS, "--organisation", TENANT, *arguments)

        results.mailboxes = await mailbox_polling(
            stamp=stage.stamp,
            database_url=stage.database_url,
            tenant=TENANT,
            address=MAILBOX_ADDRESS,
            count=options.mails,
            wait=options.settle_within,
            give_mailbox=give_mailbox,
        )
        await self.settle()
        self.step("mail out: the SMTP sink's own rate, then replies mailed by notify")
        results.mail_out = await mail_out(
            stamp=stage.stamp,
            secret=stage.secret,
            intake_url=stage.url("intake"),
            sink=stage.sink,
            mail_connections=options.mail_connections,
            wait=options.settle_within,
            settle=self.settle,
        )
        await self.settle()
        self.step("attachments: the object store, then up through intake and down through query")
        results.files = await file_transfers(
            nats_url=stage.nats.url_as("admin"),
            root=stage.subjects.root,
            intake_url=stage.url("intake"),
            query_url=stage.url("query"),
            token=customer_token(stage.secret, "load-0000"),
            count=options.files,
            concurrency=options.file_concurrency,
        )
        await self.settle()


def _write(results: Results, console: Console) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_DIR / f"{results.stamp}.json"
    json_path.write_text(dumps(results), encoding="utf-8")
    png_path = RESULTS_DIR / f"{results.stamp}.png"
    draw(results, png_path)
    console.print(table(results))
    console.print(f"JSON: {json_path}\nchart: {png_path}")


async def _main(options: Options, console: Console) -> Results:
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    mail = MailClock()
    stage = await open_stage(stamp, RUN_DIR, on_mail=mail.on_mail, intake_processes=options.intake_processes)
    columns = (TextColumn("{task.description:<58}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    bench: Bench | None = None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="hostdesk-bench-") as folder,
            Progress(*columns, console=console) as bar,
        ):
            bench = Bench(stage, options, mail=mail, progress=bar, folder=Path(folder))
            return await bench.run(describe(options, stage))
    except BaseException:
        if bench is not None and bench.results is not None:
            console.print("[red]The run failed; what it had measured:[/]")
            _write(bench.results, console)
        raise
    finally:
        console.print(f"Stopping the system; its logs are in {stage.config.log_dir}")
        await close_stage(stage)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    options = parse_options(argv)
    console = Console(width=None if sys.stdout.isatty() else 200)
    try:
        ensure_wrk()
    except GeneratorMissing as error:
        raise SystemExit(str(error)) from error
    _write(asyncio.run(_main(options, console)), console)


if __name__ == "__main__":
    main()
