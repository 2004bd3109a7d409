"""``python -m hostdesk_query``: run the query service with settings from the environment, until SIGTERM."""

from __future__ import annotations

from hostdesk_contracts.runtime.serve import serve

from hostdesk_query.main import create_app
from hostdesk_query.settings import Settings

if __name__ == "__main__":
    serve(create_app, Settings)
