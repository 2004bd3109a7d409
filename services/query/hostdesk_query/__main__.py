"""``python -m hostdesk_query``: the service, configured from the environment, until SIGTERM."""

from __future__ import annotations

import gc
import logging

import uvicorn

from hostdesk_query.main import create_app
from hostdesk_query.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    # uvicorn turns SIGTERM and SIGINT into a graceful shutdown: the lifespan then stops the consumer after its
    # batch, drains NATS and closes the pool.
    # Objects made at start-up live for ever: keep the collector from walking them again and again,
    # which shows as a tail in request latencies.
    gc.freeze()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
