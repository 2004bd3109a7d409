"""``python -m hostdesk_cli``: the ``hostdesk`` command."""

from hostdesk_cli.main import app

app(prog_name="hostdesk")
