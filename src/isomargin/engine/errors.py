"""The engine's two exceptions: `Reject` (a check refused the command; nothing has changed) and `EngineFailed`
(a bug surfaced after a mutation; the engine stops and refuses everything until it is rebuilt)."""

from __future__ import annotations

from isomargin.engine.codes import Code


class Reject(Exception):
    """A command that cannot be carried out: stable `code`, human `message`. Raised only before mutation."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class EngineFailed(Exception):
    """The engine hit a bug while committing a command and stopped (fail-stop). State in memory may be half
    changed; nothing after the last durable command may be acknowledged; recover by replaying the journal."""
