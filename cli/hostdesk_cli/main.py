"""The ``hostdesk`` command."""

from __future__ import annotations

import typer

app = typer.Typer(help="Operate a HostDesk installation: its directory, tokens, API keys and dead letters.")


@app.callback()
def main() -> None:
    """HostDesk's operator command line."""
