"""``python -m hostdesk_notify``: serve notify with the settings of the environment until SIGTERM."""

from __future__ import annotations

import gc
import logging

import uvicorn

from hostdesk_notify.main import create_app
from hostdesk_notify.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    # uvicorn turns SIGTERM and SIGINT into a graceful shutdown, which runs the lifespan's stop.
    # Objects made at start-up live for ever: keep the collector from walking them again and again,
    # which shows as a tail in request latencies.
    gc.freeze()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
