"""The one error type of isomargin's pure layers: a stable code and a sentence.

Every bad input to the margin math raises `MarginError`; adapters (CLI, server) turn it into
an exit code or an HTTP error without a traceback.
"""

from __future__ import annotations


class MarginError(ValueError):
    """Bad input or an impossible request, with a stable machine-readable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
