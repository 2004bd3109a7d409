"""``python -m hostdesk_intake``: run the intake service with settings from the environment."""

from __future__ import annotations

import gc
import logging
import math

import uvicorn

from hostdesk_intake.main import create_app
from hostdesk_intake.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    # On SIGTERM uvicorn stops accepting, lets requests in flight finish (each waits at most this long for
    # its outcome), then runs the lifespan's shutdown, which drains NATS.
    grace = math.ceil(settings.commit_wait_seconds + 3 * settings.publish_timeout_seconds) + 1
    # Objects made at start-up live for ever: keep the collector from walking them again and again,
    # which shows as a tail in request latencies.
    gc.freeze()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=grace,
    )


if __name__ == "__main__":
    main()
