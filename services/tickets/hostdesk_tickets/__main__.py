"""``python -m hostdesk_tickets``: run the tickets service with settings from the environment, until SIGTERM."""

from __future__ import annotations

from hostdesk_contracts.runtime.serve import serve

from hostdesk_tickets.main import create_app
from hostdesk_tickets.settings import Settings

if __name__ == "__main__":
    serve(create_app, Settings)
