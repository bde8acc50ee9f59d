"""Event-driven stepping changes nothing: the stepped walk and the full walk give byte-identical results.

The full walk (`MarketConfig(stepping=False)`) puts every bar's open, extremes and close through the engine as
marks; the stepped walk only the bars where a mark can reach a level the engine or the simulator watches (or a
scheduled event is due), and catches the rest up lazily. For each seeded scenario (venue × strategy × path, with
funding, stops, partial and full liquidations, jumps) both runs' whole JSON results are compared: every trade,
liquidation step, ADL, bad debt, funding payment, margin call, stop, rejection count, episode, the equity and fund
curves and the sampled margin ratios.

`make test` runs a sample of the scenarios; ISOMARGIN_STEPPING_PATHS=200 runs 200 seeded paths (minutes on the
pure engine).
"""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import numpy as np
import pytest

from isomargin.engine import OrderSide
from isomargin.sim import (
    EPISODES,
    BacktestConfig,
    BuyAndHold,
    Grid,
    MACross,
    MACrossBars,
    MarketConfig,
    Signals,
    SignalStrategy,
    Strategy,
    dumps,
    gbm,
    gbm_jumps,
    parse_positions,
    run_backtest,
    run_stress,
)
from isomargin.sim.strategy import Context

PATHS = int(os.environ.get("ISOMARGIN_STEPPING_PATHS", "24"))
BARS = int(os.environ.get("ISOMARGIN_STEPPING_BARS", "300"))
HALF_HOUR = 1_800_000

VENUES: list[tuple[str, str, D]] = [
    ("binance", "BTCUSDT", D(10_000)),
    ("okx", "BTCUSDT", D(3_000_000)),  # large: high tiers, so liquidations go partial
    ("bybit", "BTCUSDT", D(10_000)),
    ("hyperliquid", "BTCUSDT", D(10_000)),
    ("binancecoinm", "BTCUSD_PERP", D(1)),  # inverse: money in BTC, sizes in USD face
]


class Breakout(SignalStrategy):
    """Long on a new 30-bar high, short on a new low, flat after 40 bars of no new extreme: entries and exits."""

    def __init__(self, fraction: float = 0.5, stop: float = 0.01) -> None:
        self.fraction, self.stop = D(repr(fraction)), stop

    def signals(self, ctx: Context) -> Signals:
        c = np.asarray(ctx.sim.bars[ctx.symbol].close)
        n = len(c)
        hi = np.full(n, np.inf)
        lo = np.full(n, -np.inf)
        for i in range(30, n):
            hi[i], lo[i] = c[i - 30 : i].max(), c[i - 30 : i].min()
        up, down = c > hi, c < lo
        quiet = np.zeros(n, dtype=bool)
        moved = np.asarray(np.lib.stride_tricks.sliding_window_view(up | down, 40).any(axis=-1))
        quiet[40:] = ~moved[: n - 40]
        return Signals(up, quiet, down, quiet)


class LimitLadder(Strategy):
    """Resting limit orders below and above the price, re-laid every 25 bars (the provider's quotes meet them)."""

    def on_bar(self, ctx: Context) -> None:
        if ctx.i % 25:
            return
        ctx.cancel_all()
        qty = ctx.qty_for(ctx.wallet * D("0.1"))
        if qty <= 0:
            return
        ctx.limit(OrderSide.BUY, qty, ctx.price * 0.998)
        if ctx.size() > 0:
            ctx.limit(OrderSide.SELL, min(qty, ctx.size()), ctx.price * 1.002, reduce_only=True)


def _strategy(k: int, inverse: bool) -> tuple[str, Strategy]:
    if inverse:
        choices: list[tuple[str, Strategy]] = [
            ("ma-cross+stop", MACross(5, 20, fraction=0.5, stop=0.004)),
            ("ma-cross-bars", MACrossBars(5, 20, fraction=0.5)),
            ("hold-short", BuyAndHold(0.9, side="short")),
            ("breakout", Breakout()),
        ]
    else:
        choices = [
            ("ma-cross+stop", MACross(5, 20, fraction=0.5, stop=0.004)),
            ("ma-cross-bars", MACrossBars(5, 20, fraction=0.5, stop=0.004)),
            ("hold-long", BuyAndHold(0.9)),
            ("hold-short+stop", BuyAndHold(0.9, stop=0.02, side="short")),
            ("grid", Grid(8, 0.002, 0.9)),
            ("breakout", Breakout()),
            ("limits", LimitLadder()),
        ]
    return choices[k % len(choices)]


def _scenario(seed: int) -> tuple[str, Any, Any, BacktestConfig]:
    rng = np.random.default_rng(seed)
    venue, symbol, deposit = VENUES[seed % len(VENUES)]
    name, strategy = _strategy(seed, venue == "binancecoinm")  # 5 venues × 7 strategies: every pair by 35
    start = float(rng.choice([60_000.0, 2_500.0, 150.0]))
    if venue == "binancecoinm":
        start = 60_000.0
    sigma = float(rng.choice([1.5, 3.0, 6.0]))
    if seed % 2:
        bars = gbm_jumps(BARS, seed=seed, start=start, sigma=sigma, jumps_per_year=20_000.0, jump_sd=0.01)
    else:
        bars = gbm(BARS, seed=seed, start=start, sigma=sigma)
    market = MarketConfig(
        venue=venue,
        funding_rate=D("0.0004") if seed % 3 else D("-0.0003"),
        funding_interval_ms=HALF_HOUR,
        spread=D(0) if seed % 4 == 0 else D("0.0002"),
    )
    leverage = int(rng.choice([5, 20, 40])) if venue != "okx" else int(rng.choice([10, 20]))
    cfg = BacktestConfig(symbol=symbol, leverage=leverage, deposit=deposit, market=market)
    return f"{seed}:{venue}:{name}:{leverage}x", strategy, bars, cfg


def _pair(seed: int) -> tuple[str, str, str]:
    label, strategy, bars, cfg = _scenario(seed)
    _, strategy2, _, _ = _scenario(seed)
    full = dumps(run_backtest(bars, strategy, replace(cfg, market=replace(cfg.market, stepping=False))))
    stepped = dumps(run_backtest(bars, strategy2, cfg))
    return label, full, stepped


@pytest.mark.parametrize("seed", range(PATHS))
def test_stepped_walk_equals_full_walk(seed: int) -> None:
    label, full, stepped = _pair(seed)
    assert stepped == full, label


def test_scenarios_exercise_what_stepping_must_respect() -> None:
    """The sample has funding, stops, partial and full liquidations, margin calls and gaps in it."""
    import json

    seen: dict[str, int] = dict.fromkeys(("funding", "stops", "partial", "full", "calls", "maker", "inverse"), 0)
    for seed in range(16):
        _, strategy, bars, cfg = _scenario(seed)
        r = json.loads(dumps(run_backtest(bars, strategy, cfg)))
        seen["funding"] += len(r["funding_list"])
        seen["stops"] += len(r["stops"])
        seen["partial"] += r["partial_liquidations"]
        seen["full"] += r["full_liquidations"]
        seen["calls"] += len(r["margin_calls"])
        seen["maker"] += sum(1 for t in r["trades_list"] if t["maker"])
        seen["inverse"] += "contract_size" in r
    assert all(v > 0 for v in seen.values()), seen


@pytest.mark.parametrize("episode", ["cascade", "covid-2020", "oct-2025"])
def test_stepped_stress_equals_full_walk(episode: str) -> None:
    bars = EPISODES[episode].build()
    symbols = list(bars)
    spec = ",".join(
        f"{a}@{symbols[a % len(symbols)]}:{'long' if a % 2 else 'short'}:{lev}x:1000:"
        + ("cross" if a % 3 == 0 else "isolated")
        for a, lev in enumerate((3, 5, 10, 20, 25, 50, 75, 100), start=1)
    )
    if len(symbols) > 1:  # one cross account over two symbols: its band on each moves with the other's mark
        spec += f",9@{symbols[0]}:long:20x:1000:cross,9@{symbols[1]}:short:15x:800:cross"
    book = parse_positions(spec, symbols[0])
    market = MarketConfig(venue="binance", funding_rate=D("0.0002"))
    full = dumps(run_stress(bars, book, replace(market, stepping=False)))
    stepped = dumps(run_stress(bars, book, market))
    assert stepped == full


def test_stepping_skips_the_quiet_bars() -> None:
    """A 10× MA cross on a calm path: most bars never reach the engine, and the result is the full walk's."""
    from isomargin.sim import runner

    walked: list[int] = []
    real = runner.Simulation.run

    def spy(self: runner.Simulation, *a: Any, **k: Any) -> None:
        real(self, *a, **k)
        walked.append(self.walked)

    bars = gbm(3000, seed=4, sigma=0.6)
    cfg = BacktestConfig(leverage=10)
    mp = pytest.MonkeyPatch()
    mp.setattr(runner.Simulation, "run", spy)
    try:
        stepped = dumps(run_backtest(bars, MACross(20, 50), cfg))
        full = dumps(run_backtest(bars, MACross(20, 50), replace(cfg, market=replace(cfg.market, stepping=False))))
    finally:
        mp.undo()
    assert stepped == full
    assert walked[1] == 3000 and walked[0] < 3000 // 4, walked
