"""The engine's rejection: raised before any state changes, turned into a `Rejected` event."""

from __future__ import annotations


class Reject(Exception):
    """A command that cannot be carried out: stable `code`, human `message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
