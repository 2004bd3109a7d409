"""``python -m hostdesk_intake``: run the intake service with settings from the environment, until SIGTERM."""

from __future__ import annotations

from hostdesk_contracts.runtime.serve import serve

from hostdesk_intake.main import create_app
from hostdesk_intake.settings import Settings

if __name__ == "__main__":
    serve(create_app, Settings)
