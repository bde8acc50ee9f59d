"""The `isomargin` command line: one Typer app wiring the calculators, the journal tools, the venue and the
simulator. Every bad input ends as one line `error: <code>: <sentence>` on stderr with exit code 2, never a
traceback; `--json` prints machine output with decimals as strings.

Only `calc` is imported with this module: the journal, server and simulator commands (which pull in the
engine, FastAPI/uvicorn, pandas/numpy) are registered by name and built from their modules the first time
Click asks for them (running one, or `isomargin --help`, which lists them all). Their flags, help and
behaviour are those of the functions in `isomargin.journal.cli`, `isomargin.server.cli` and `isomargin.sim.cli`,
wired exactly as an eager `app.command(name=…)` / `app.add_typer(…, name=…)` would.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import Any

import typer
import typer.main

from isomargin.calculators import calc
from isomargin.cliutil import FastGroup

# A Click command (Typer ≥ 0.2x vendors Click as typer._click; older Typer uses click): only passed through here.
Command = Any

# Listing order of `isomargin --help`: Typer lists an app's commands, then its sub-apps (calc, journal).
# Each lazy entry: (module, attribute, "command" for a function or "group" for a Typer sub-app).
LAZY: dict[str, tuple[str, str, str]] = {
    "replay": ("isomargin.journal.cli", "replay", "command"),
    "serve": ("isomargin.server.cli", "serve", "command"),
    "demo": ("isomargin.server.cli", "demo", "command"),
    "backtest": ("isomargin.sim.cli", "backtest", "command"),
    "stress": ("isomargin.sim.cli", "stress", "command"),
    "journal": ("isomargin.journal.cli", "journal_cli", "group"),
}
ORDER = ("replay", "serve", "demo", "backtest", "stress", "calc", "journal")


def build_lazy(name: str) -> Command:
    """The Click command `name` exactly as the eager wiring made it: registered on a throwaway Typer with the
    main app's (default) settings and converted by Typer itself."""
    module, attr, how = LAZY[name]
    target = getattr(import_module(module), attr)
    holder = typer.Typer(add_completion=False)
    if how == "group":
        holder.add_typer(target, name=name)
    else:
        holder.command(name=name)(target)
    return typer.main.get_group(holder).commands[name]


class LazyCommands(MutableMapping[str, Command]):
    """The group's command table: built commands, plus the lazy names, each built on first lookup."""

    def __init__(self, built: MutableMapping[str, Command]) -> None:
        self.built: dict[str, Command] = dict(built)
        self.pending = [n for n in LAZY if n not in self.built]

    def __getitem__(self, name: str) -> Command:
        if name not in self.built and name in self.pending:
            self.built[name] = build_lazy(name)
            self.pending.remove(name)
        return self.built[name]

    def __setitem__(self, name: str, cmd: Command) -> None:
        self.built[name] = cmd
        if name in self.pending:
            self.pending.remove(name)

    def __delitem__(self, name: str) -> None:
        if name in self.pending:
            self.pending.remove(name)
        else:
            del self.built[name]

    def __iter__(self) -> Iterator[str]:
        names = set(self.built) | set(self.pending)
        yield from (n for n in ORDER if n in names)
        yield from (n for n in self.built if n not in ORDER)

    def __len__(self) -> int:
        return len(set(self.built) | set(self.pending))

    def __contains__(self, name: object) -> bool:
        return name in self.built or name in self.pending


class LazyGroup(FastGroup):
    """Typer's group over a LazyCommands table (its get_command and list_commands read `self.commands`)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands)


app = typer.Typer(
    cls=LazyGroup,
    help="isomargin: exchange-grade isolated-margin engine and venue-exact calculators.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(calc, name="calc")

if __name__ == "__main__":  # pragma: no cover
    app(prog_name="isomargin")
