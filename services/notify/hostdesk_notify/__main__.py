"""``python -m hostdesk_notify``: run the notify service with settings from the environment, until SIGTERM."""

from __future__ import annotations

from hostdesk_contracts.runtime.serve import serve

from hostdesk_notify.main import create_app
from hostdesk_notify.settings import Settings

if __name__ == "__main__":
    serve(create_app, Settings)
