"""The command being carried out: its envelope and the events emitted so far, shared by every component."""

from __future__ import annotations

from isomargin.engine.commands import Command
from isomargin.engine.events import Envelope, Event


class Context:
    """Reset by the engine for each command; components append events with `len(out)` as their index."""

    __slots__ = ("env", "out")

    def __init__(self) -> None:
        self.env = Envelope(0, Command())
        self.out: list[Event] = []
