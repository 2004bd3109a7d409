"""The machine's HTTP limit: a trivial FastAPI endpoint on uvicorn (uvloop + httptools), one process.

``python -m hostdesk_devtools.bench.trivial --port N``. It takes the same request as opening a ticket and
answers ``201`` with a small JSON body at once: what the load generator reaches against it is the ceiling of
both the generator and a Python HTTP service on this machine.
"""

from __future__ import annotations

import argparse
import gc
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/tickets", status_code=201)
    async def open_ticket(payload: dict[str, Any]) -> dict[str, Any]:
        return {"ticket_id": str(uuid.uuid4()), "number": 1, "version": 1}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hostdesk_devtools.bench.trivial")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    gc.freeze()  # as the services do
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=arguments.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
