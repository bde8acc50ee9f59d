"""Monte Carlo stress speed: 200 seeded GBM paths × 4 leverages × 2 stops (1,600 runs of a one-day horizon).

Each run opens a long with 1,000 USDT of margin at the leverage (BTCUSDT, Binance) and walks 1,440 one-minute
bars through the engine (event-driven stepping: only bars that can liquidate, stop or pay funding are walked).
`ProcessExecutor(2)`: two worker processes, the issue's "2 cores". Target: under 2 minutes.
Usage: python bench/stress_mc_speed.py [PATHS] [WORKERS]   — prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

try:
    import isomargin.sim  # noqa: F401
except ModuleNotFoundError:  # a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from isomargin.sim import MCParams, run_monte_carlo
from isomargin.sim.executors import ProcessExecutor


def main() -> None:
    paths = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    grid = [
        MCParams(paths=paths, bars=1440, seed=1, leverage=lev, stop=stop, margin=Decimal(1000))
        for lev in (5, 10, 20, 50)
        for stop in (0.0, 0.03)
    ]
    start = time.perf_counter()
    result = run_monte_carlo(grid, ProcessExecutor(workers), chunk=25)
    seconds = time.perf_counter() - start
    runs = len(grid) * paths
    print(json.dumps({
        "bench": "stress_mc_speed", "paths": paths, "cells": len(grid), "runs": runs, "workers": workers,
        "seconds": round(seconds, 2), "runs_per_s": round(runs / seconds, 1),
        "bars_per_s": round(runs * 1440 / seconds),
        "p_liquidation": [r.get("p_liquidation") for r in result["runs"]],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
