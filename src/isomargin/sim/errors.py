"""Simulator errors: one code and one sentence, printed by the CLI as `error: <code>: <sentence>`.

Every bad input the simulator can detect (data files, path names, strategy specs, books) raises SimError.
"""

from __future__ import annotations


class SimError(Exception):
    """A user-facing simulator error with a stable machine code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
