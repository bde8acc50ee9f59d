"""Shared pieces of the command line: consoles, the one-line error with exit code 2, JSON and number
formatting. Every subcommand module (calculators, journal, server, simulator) uses the same conventions.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from isomargin.margin import MarginError, Side, plain

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output; decimals as strings.")]
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def fail(code: str, message: str) -> NoReturn:
    err.print(f"[bold red]error[/]: {code}: {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def guarded(fn: Callable[[], T]) -> T:
    """Run a calculation, turning a MarginError into the one-line error and exit code 2."""
    try:
        return fn()
    except MarginError as exc:
        fail(exc.code, exc.message)


def js(value: Any) -> Any:
    """JSON-ready copy: Decimals become plain strings, enums their names."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, Side):
        return value.name.lower()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: js(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [js(v) for v in value]
    return value


def fmt(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "—"
    if value.is_infinite():
        return "∞"
    return f"{value.quantize(Decimal(1).scaleb(-places)):,}"


def pct(value: Decimal | None, places: int = 2) -> str:
    return "—" if value is None else f"{fmt(value * 100, places)} %"
