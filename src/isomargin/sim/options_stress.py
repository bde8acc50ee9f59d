"""An options stress run: a book of short strangles (one account each, sized in contracts) sold at the path's first
price, then a gap (default +30 %) walked through the engine, so a short above tier 1 is liquidated one tier at a
time. `gap_path` builds the path: hourly bars flat at `start`, one jump at `at`, flat after.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from isomargin.sim.errors import SimError
from isomargin.sim.generators import START_TS
from isomargin.sim.market import MarketConfig
from isomargin.sim.options_leg import OptionsDesk, OptionsSetup, options_outcome
from isomargin.sim.paths import Bars, make_bars
from isomargin.sim.runner import Simulation
from isomargin.sim.strategy import Context, ShortStrangle

ZERO = Decimal(0)
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class OptionsBook:
    """Short strangles, one account (1, 2, …) per size in contracts, `otm` out of the money, `days` to expiry."""

    contracts: tuple[int, ...] = (25_000, 15_000, 5_000)
    otm: float = 0.1
    days: int = 7
    deposit: Decimal = Decimal(200)  # BTC per account


def gap_path(gap: float = 0.3, start: float = 95_000.0, bars: int = 48, at: int = 24) -> Bars:
    """Hourly bars flat at `start`, then at bar `at` the open jumps to start × (1 + gap) and stays there."""
    if not -0.9 <= gap <= 5 or gap == 0:
        raise SimError("bad_gap", f"--gap is a fraction between -0.9 and 5, not 0, got {gap}")
    if not 2 <= bars <= 100_000 or not 0 < at < bars:
        raise SimError("bad_parameter", f"the gap bar must fall inside the path (bars {bars}, at {at})")
    close = np.full(bars, start)
    close[at:] = start * (1 + gap)
    return make_bars(START_TS + np.arange(bars) * HOUR_MS, close, close, close, close, name=f"gap {gap:+.0%}")


def run_options_stress(path: Bars, book: OptionsBook, market: MarketConfig, setup: OptionsSetup) -> dict[str, Any]:
    """Sell every account's strangle at the first bar, walk the path, report each account's steps and loss."""
    if not book.contracts or any(c < 1 for c in book.contracts):
        raise SimError("bad_positions", "give each account's strangle size as a whole number of contracts ≥ 1")
    sim = Simulation(market, {}, options=(path, setup))
    accounts = list(range(1, len(book.contracts) + 1))
    assert sim.options is not None
    for acct in accounts:
        sim.add_account(acct, book.deposit, {}, sim.options.family.settle)
    pools: dict[int, Decimal] = {}
    for acct, size in zip(accounts, book.contracts, strict=True):
        ctx = Context(sim, acct, setup.family)
        ctx.options = OptionsDesk(sim, acct)
        ShortStrangle(contracts=size, otm=book.otm, days=book.days).on_start(ctx)
        pools[acct] = ctx.options.margin()
    sim.run(None)
    rows = [_account(sim, acct, size, pools[acct]) for acct, size in zip(accounts, book.contracts, strict=True)]
    return {
        "kind": "options_stress",
        "product": "options",
        "venue": setup.venue,
        "asset": sim.options.family.settle,
        "bars": sim.n,
        "path": path.name,
        "iv": setup.iv.iv,
        "accounts": rows,
        "cap_ok": all(r["cap_ok"] for r in rows),
        "insurance_draws": sim.insurance_draws,
        "insurance_income": sim.insurance_income,
        "insurance_end": sim.insurance(),
        **options_outcome(sim, accounts),
        "liquidations": sim.liquidations,
        "warnings": sim.notes,
    }


def _account(sim: Simulation, acct: int, size: int, pools: Decimal) -> dict[str, Any]:
    """One account: its strangle's size, its pools after the sale and what its wallet put in them (the pools less
    the premium net of fees), its liquidation steps, and its loss, which the isolated pools cap at that."""
    assert sim.options is not None
    steps = [x for x in sim.options.liquidations if x["account"] == acct and x["step"].value in ("partial", "close")]
    loss = sim.accounts[acct] - sim.equity(acct)
    sold = sum((t["premium"] - t["fee"] for t in sim.trades if t["account"] == acct and t["side"] == "SELL"), ZERO)
    return {
        "account": acct,
        "contracts": size,
        "pools": pools,
        "posted": pools - sold,
        "steps": [f"{x['symbol']} {x['step'].value} {x['qty'] + x['taken_over']}" for x in steps],
        "loss": loss,
        "cap_ok": loss <= pools - sold,
    }
