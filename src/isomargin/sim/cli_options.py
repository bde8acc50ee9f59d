"""The simulator CLI's options flags: `backtest --product options --iv …` (the family, the IV model, and the
flags an options run has no use for, refused), and `stress --product options` (a gap through a book of short
strangles). Kept apart from cli.py, which calls in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from isomargin.cliutil import fail

IV_FLAGS = ("--iv", "--iv-skew", "--iv-smile", "--iv-term")


@dataclass(frozen=True)
class FamilySpec:
    """What the backtest command needs of an options family: its name (the path's symbol), settle asset, a tick for
    generated index paths."""

    symbol: str
    settle: str
    tick_size: Decimal = Decimal("0.1")
    inverse: bool = False


def _float(text: str | None, flag: str, default: float) -> float:
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        fail("bad_iv", f"{flag} takes a number, got {text!r}")


def iv_model(iv: str | None, skew: str | None, smile: str | None, term: str | None) -> Any:
    from isomargin.sim.cli import guarded
    from isomargin.sim.options_leg import IVModel

    values = [_float(v, f, d) for v, f, d in zip((iv, skew, smile, term), IV_FLAGS, (0.6, 0, 0, 0), strict=True)]
    return guarded(lambda: IVModel(*values))


def refuse_iv_flags(product: str, flags: tuple[str | None, ...]) -> None:
    """An IV flag outside an options run is refused."""
    if product != "options" and any(f is not None for f in flags):
        fail("bad_parameter", "--iv, --iv-skew, --iv-smile and --iv-term mark options: use them with --product options")


def options_product(venue: str, symbol: str, refused: dict[str, bool]) -> FamilySpec:
    """The family `--symbol` names on `--venue` (BTCUSDT, the default, means BTC-USD); a flag set in `refused`
    (a perpetual's or spot margin's) is refused."""
    from isomargin.venues.options import UnknownOptionFamily, option_family

    for flag, given in refused.items():
        if given:
            fail("bad_parameter", f"{flag} has no meaning for options (isolated, no funding, no loans)")
    family = "BTC-USD" if symbol == "BTCUSDT" else symbol.upper()
    try:
        f = option_family(venue, family)
    except UnknownOptionFamily as exc:
        fail("bad_symbol", f"{exc.args[0]} (options: --venue okx --symbol BTC-USD or ETH-USD)")
    if f.settle != f.underlying:
        fail("bad_symbol", f"{venue} {family} settles in {f.settle}: the simulator runs coin-margined families only")
    return FamilySpec(f.family, f.settle)


def stress_options(
    venue: str,
    gap: float,
    contracts: str,
    otm: float,
    days: int,
    model: Any,
    market: Any,
    deposit: str | None,
) -> dict[str, Any]:
    """`stress --product options`: the gap path through a book of short strangles."""
    from isomargin.sim.cli import _dec, _list, guarded
    from isomargin.sim.options_leg import OptionsSetup
    from isomargin.sim.options_stress import OptionsBook, gap_path, run_options_stress

    sizes = tuple(_list(contracts, int, "--contracts"))
    book = OptionsBook(sizes, otm, days, _dec(deposit, "--balance") or OptionsBook.deposit)
    setup = OptionsSetup(venue=venue, iv=model)
    return guarded(lambda: run_options_stress(gap_path(gap), book, market, setup))
