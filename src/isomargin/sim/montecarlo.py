"""Monte Carlo and parameter sweeps: the probability of liquidation within a horizon, through the engine.

Each path is a seeded generator run (seed, path index) and a single position opened at the first bar:
leverage × margin × stop distance. Work is split into chunks and handed to an `Executor` (local
processes by default, Dask or Ray when given), and results are put back in parameter order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np

from isomargin.sim.backtest import DEFAULT_COIN_DEPOSIT, DEFAULT_DEPOSIT, BacktestConfig, run_backtest
from isomargin.sim.executors import Executor, SerialExecutor
from isomargin.sim.generators import generate
from isomargin.sim.market import MarketConfig
from isomargin.sim.strategy import BuyAndHold
from isomargin.venues import get_profile


@dataclass(frozen=True)
class MCParams:
    generator: str = "gbm"
    bars: int = 1440  # the horizon
    paths: int = 100
    seed: int = 0
    leverage: int = 10
    margin: Decimal = Decimal(1000)
    stop: float = 0.0  # stop distance as a fraction of entry (0: none)
    side: str = "long"
    venue: str = "binance"
    symbol: str = "BTCUSDT"
    start: float = 60_000.0
    sigma: float | None = None
    deposit: Decimal | None = Decimal(10_000)  # settle asset; None: 10,000 USDT or 1 coin (the CLI's inverse default)
    funding_rate: Decimal | None = None


def _one(p: MCParams, index: int) -> dict[str, Any]:
    spec = get_profile(p.venue).spec(p.symbol)
    tick = float(spec.tick_size) if spec.tick_size > 0 else 0.01
    bars = generate(p.generator, p.bars, seed=p.seed * 1_000_003 + index, start=p.start, sigma=p.sigma, tick=tick)
    market = MarketConfig(venue=p.venue, funding_rate=p.funding_rate)
    deposit = p.deposit if p.deposit is not None else DEFAULT_COIN_DEPOSIT if spec.inverse else DEFAULT_DEPOSIT
    cfg = BacktestConfig(symbol=p.symbol, leverage=p.leverage, deposit=deposit, market=market, curve_points=2)
    strat = BuyAndHold(fraction=float(p.margin / deposit), stop=p.stop, side=p.side)
    r = run_backtest(bars, strat, cfg)
    liq = [x["bar"] for x in r["liquidations"]]
    pos = r["positions"][0] if r["positions"] else None
    stopped = pos is not None and not pos["liquidated"] and pos["closed_bar"] is not None
    return {
        "path": index,
        "liquidated": bool(liq),
        "liquidation_bar": liq[0] if liq else None,
        "stopped": stopped,
        "stop_bar": pos["closed_bar"] if stopped and pos else None,
        "loss": float(deposit - r["final_equity"]),
        "loss_fraction": float(pos["margin_loss"] / pos["allocated_margin"])
        if pos and pos["allocated_margin"]
        else None,
        "insurance_draws": float(r["insurance_draws"]),
    }


def _chunk(task: tuple[MCParams, int, int]) -> list[dict[str, Any]]:
    p, lo, hi = task
    return [_one(p, i) for i in range(lo, hi)]


def run_monte_carlo(
    params: MCParams | list[MCParams],
    executor: Executor | None = None,
    chunk: int = 8,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Every parameter set over `paths` seeded paths; one summary per set, in the order given. With `progress`,
    the chunks go to the executor in batches and `progress(paths done)` is called after each."""
    plist = params if isinstance(params, list) else [params]
    tasks = [(p, lo, min(lo + chunk, p.paths)) for p in plist for lo in range(0, p.paths, chunk)]
    ex = executor or SerialExecutor()
    if progress is None:
        chunks = ex.map(_chunk, tasks)
    else:
        chunks = []
        batch = max(1, 4 * int(getattr(ex, "workers", 1) or 1))
        done = 0
        for lo in range(0, len(tasks), batch):
            part = tasks[lo : lo + batch]
            chunks += ex.map(_chunk, part)
            done += sum(hi - a for _, a, hi in part)
            progress(done)
    per: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(plist))}
    k = 0
    for i, p in enumerate(plist):
        for _ in range(0, p.paths, chunk):
            per[i] += chunks[k]
            k += 1
    runs = [summarise(p, per[i]) for i, p in enumerate(plist)]
    return {"kind": "montecarlo", "runs": runs}


def summarise(p: MCParams, paths: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(paths)
    liq = np.array([x["liquidation_bar"] for x in paths if x["liquidated"]], dtype=np.float64)
    loss = np.array([x["loss"] for x in paths], dtype=np.float64)
    frac = np.array([x["loss_fraction"] for x in paths if x["loss_fraction"] is not None], dtype=np.float64)

    def q(a: np.ndarray, qs: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> dict[str, float] | None:
        return {f"p{int(x * 100)}": float(np.quantile(a, x)) for x in qs} if len(a) else None

    params = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(p).items()}
    return {
        "params": params,
        "paths": n,
        "p_liquidation": len(liq) / n if n else 0.0,
        "p_stopped": sum(1 for x in paths if x["stopped"]) / n if n else 0.0,
        "liquidation_bar": q(liq),
        "loss": q(loss),
        "mean_loss": float(loss.mean()) if n else 0.0,
        "max_loss_fraction_of_margin": float(frac.max()) if len(frac) else None,
        "insurance_draws": float(sum(x["insurance_draws"] for x in paths)),
        "liquidation_bars": [x["liquidation_bar"] for x in paths],
        "losses": [x["loss"] for x in paths],
    }


def sweep(
    base: MCParams,
    leverages: list[int],
    margins: list[Decimal],
    stops: list[float],
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """leverage × margin × stop distance, each over `base.paths` paths (the same seeds for every cell)."""
    grid = [replace(base, leverage=lv, margin=m, stop=s) for lv in leverages for m in margins for s in stops]
    out = run_monte_carlo(grid, executor, progress=progress)
    out["kind"] = "sweep"
    return out
