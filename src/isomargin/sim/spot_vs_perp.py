"""The same leveraged long two ways on one seeded path: spot margin on borrowed USDT (hourly interest) against a
perpetual at the same leverage (funding every 8 h), both through the engine on Binance's data and fees.
`python -m isomargin.sim.spot_vs_perp [--seed S] [--days D] [--leverage L] [--funding RATE]` prints the table
the README shows; `compare()` returns both backtests' result dicts.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from isomargin.sim.backtest import BacktestConfig, run_backtest
from isomargin.sim.generators import gbm_jumps
from isomargin.sim.market import HOUR_MS, MarketConfig
from isomargin.sim.results import js
from isomargin.sim.strategy import BuyAndHold, Context, SpotMarginLong

FRACTION = 0.9  # of the 10,000 USDT wallet: the collateral (spot) or the margin (perp)
ROWS = (
    ("bought (BTC)", "bought"),
    ("carrying cost (USDT)", "carry"),
    ("  of which", "carry_kind"),
    ("fees (USDT)", "fees"),
    ("liquidated on bar", "liquidated_on"),
    ("final equity (USDT)", "final_equity"),
    ("return", "return"),
    ("max drawdown", "max_drawdown"),
)


class HoldThenClose(BuyAndHold):
    """Buy-and-hold that also sells at the last close, as spot-margin-long does (both pay an exit fee)."""

    def on_end(self, ctx: Context) -> None:
        ctx.close()


def compare(seed: int = 7, days: int = 30, leverage: int = 3, funding: str = "0.0001") -> dict[str, dict[str, Any]]:
    """Both runs on one `gbm_jumps` path of hourly bars: spot-margin-long on BTC-USDT and buy-and-hold (closed at
    the end) on BTCUSDT, each putting `FRACTION` of the wallet to work at `leverage`; the perpetual pays `funding`
    per 8 h."""
    bars = gbm_jumps(days * 24, seed=seed, interval_ms=HOUR_MS, tick=0.01)
    spot = run_backtest(
        bars,
        SpotMarginLong(leverage=leverage, fraction=FRACTION),
        BacktestConfig(symbol="BTC-USDT", leverage=leverage, product="spot-margin"),
    )
    perp = run_backtest(
        bars,
        HoldThenClose(fraction=FRACTION),
        BacktestConfig(symbol="BTCUSDT", leverage=leverage, market=MarketConfig(funding_rate=Decimal(funding))),
    )
    return {"spot margin": spot, "perpetual": perp}


def _figures(r: dict[str, Any]) -> dict[str, Any]:
    buy = next((t for t in r["trades_list"] if t["side"] == "BUY"), None)
    spot = r.get("product") == "spot-margin"
    carry = r["interest"] if spot else -r["funding"]  # a long's funding is negative when it pays
    kind = f"interest, {r['interest_hours']} h" if spot else f"funding, {len(r['funding_list'])} × 8 h"
    liq = r["liquidations"]
    bought = None if buy is None else buy["qty"]
    return {**r, "bought": bought, "carry": carry, "carry_kind": kind, "liquidated_on": liq[0]["bar"] if liq else "—"}


def table(runs: dict[str, dict[str, Any]]) -> str:
    cols = {name: _figures(r) for name, r in runs.items()}
    head = f"{'':24}" + "".join(f"{name:>22}" for name in cols)
    lines = [head]
    for label, key in ROWS:
        cells = [_cell(c[key], key) for c in cols.values()]
        lines.append(f"{label:24}" + "".join(f"{x:>22}" for x in cells))
    return "\n".join(lines)


def _cell(value: Any, key: str) -> str:
    if key in ("return", "max_drawdown"):
        return f"{float(value):.2%}"
    if isinstance(value, Decimal) and key != "bought":
        return f"{value:,.2f}"
    return str(js(value))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--leverage", type=int, default=3)
    ap.add_argument("--funding", default="0.0001", help="perpetual funding rate per 8 h")
    a = ap.parse_args()
    print(table(compare(a.seed, a.days, a.leverage, a.funding)))


if __name__ == "__main__":
    main()
