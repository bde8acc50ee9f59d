"""Shared pieces of the command line: consoles, the one-line error with exit code 2, JSON and number
formatting. Every subcommand module (calculators, journal, server, simulator) uses the same conventions.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import typer.core
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


# ---------------------------------------------------------------------------------------- fast start
# Typer >= 0.2x coerces every parameter through a pydantic TypeAdapter, built on the first parse: importing
# pydantic and building the adapters costs more than the rest of `isomargin calc` together. A value of a `str`
# option arrives from the command line as a str and a flag as a bool, so for those (and only those: no parser,
# no file, no list) Typer's own pass-through coercion is the same function; the calculators' commands use it.
# On a Typer without this machinery (older ones, on Click) nothing changes.
try:
    from typer._coercion import PassThroughRuntimeParam as _PassThrough
except ImportError:  # pragma: no cover - another Typer
    _PassThrough = None  # type: ignore[assignment, misc]


def plain_params(params: list[Any]) -> list[Any]:
    """Give the plain str/bool parameters Typer's pass-through coercion instead of a pydantic adapter."""
    if _PassThrough is None:  # pragma: no cover
        return params
    for p in params:
        d = getattr(p, "type_descriptor", None)
        if d is None or getattr(p, "_runtime_param", False) is not None:
            continue
        info = d.parameter_info
        if d.annotation in (str, bool) and d.file_annotation is None and getattr(info, "parser", None) is None:
            p._runtime_param = _PassThrough(annotation=d.annotation, parameter_info=info)
    return params


class FastCommand(typer.core.TyperCommand):
    """A Typer command whose str/bool options skip the pydantic adapters (see `plain_params`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return plain_params(super().get_params(ctx))


class FastGroup(typer.core.TyperGroup):
    """A Typer group whose own options (--help) skip the pydantic adapters."""

    def get_params(self, ctx: Any) -> list[Any]:
        return plain_params(super().get_params(ctx))
