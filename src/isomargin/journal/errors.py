"""Journal errors: every failure carries a short machine code and one human sentence.

The CLI prints them as `error: <code>: <message>` with exit code 2; callers can match on `code`.
"""

from __future__ import annotations


class JournalError(Exception):
    """A journal that cannot be opened, read, trusted or written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CodecError(JournalError):
    """A command or event that cannot be encoded or decoded exactly."""
