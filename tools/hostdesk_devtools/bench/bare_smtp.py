"""The machine's SMTP limit: a bare aiosmtpd server, one process, that answers every message ``250`` at once.

``python -m hostdesk_devtools.bench.bare_smtp --port N``. What the sending client reaches against it is the
ceiling of both the client and an SMTP server in Python on this machine, the same way the trivial endpoint is
for HTTP: support mail in is measured beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal

import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

MAX_BYTES = 64 * 2**20  # as intake's listener


class Accept:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Accept(), data_size_limit=MAX_BYTES, enable_SMTPUTF8=True, hostname="bare", ident="bare"),
        host="127.0.0.1",
        port=port,
    )
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    async with server:
        await stopping.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hostdesk_devtools.bench.bare_smtp")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    gc.freeze()  # as the services do
    uvloop.run(serve(arguments.port))  # the loop intake's listener runs on


if __name__ == "__main__":
    main()
