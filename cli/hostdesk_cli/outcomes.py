"""What the user is told of a command's outcome, and with which exit status.

0: committed (or nothing to change). 1: refused, with the directory's detail and the field at fault, or a
setting or record the command needs is missing. 2: no outcome in time; the command is durable and may still be
applied: running it again (the same content, or ``--command-id``) is the same command. 3: the installation could
not be reached; nothing was sent. Click's own usage errors (a malformed option) exit 2 as well, before anything
is sent.
"""

from __future__ import annotations

from hostdesk_contracts.directory import AnyDirectoryCommand
from hostdesk_contracts.outcomes import CommandOutcome, Refusal

REFUSED = 1
NO_OUTCOME = 2
UNREACHABLE = 3


class CommandFailed(Exception):
    """A command that did not commit, or could not be built: ``message`` says why, ``exit_code`` how badly."""

    def __init__(self, message: str, *, exit_code: int = REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def committed(command: AnyDirectoryCommand, outcome: CommandOutcome | None) -> CommandOutcome:
    """``outcome`` when it is a commit; else the failure to tell the user."""
    if outcome is None:
        raise CommandFailed(
            f"No outcome in time for {command.key}. The command is stored and may still be applied: run the same "
            f"command again to learn its fate, or add --command-id {command.command_id}",
            exit_code=NO_OUTCOME,
        )
    if outcome.result == "committed":
        return outcome
    raise CommandFailed(refusal_message(outcome))


def refusal_message(outcome: CommandOutcome) -> str:
    what = outcome.key or "the record"
    if outcome.refusal is Refusal.STALE:
        now = f" (it is at version {outcome.current_version} now)" if outcome.current_version else ""
        return f"Refused as stale: {what} changed meanwhile{now}. Read it again and retry. {outcome.detail or ''}"
    field = f" [field: {outcome.field}]" if outcome.field else ""
    reason = outcome.refusal.value if outcome.refusal else "refused"
    return f"Refused ({reason}) {what}: {outcome.detail or 'no detail given'}{field}"
