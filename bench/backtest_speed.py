"""Backtest speed: bars/s for a moving-average cross at 10× isolated through the full engine.

A seeded GBM path of N one-minute bars (default 1,000,000) on Binance BTCUSDT; MACross(20, 50) with 20 % of
the wallet as margin per entry; the liquidity provider re-quotes as the path moves; every bar is walked
open → extremes → close as mark prices. Only `run_backtest` is timed (path generation is not).
Usage: python bench/backtest_speed.py [N]   — prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

try:
    import isomargin.sim  # noqa: F401
except ModuleNotFoundError:  # a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from isomargin.sim import BacktestConfig, MACross, gbm, run_backtest


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    bars = gbm(n, seed=1)
    cfg = BacktestConfig(symbol="BTCUSDT", leverage=10, margin_mode="isolated")
    start = time.perf_counter()
    result = run_backtest(bars, MACross(20, 50), cfg)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "bench": "backtest_speed", "bars": n, "seconds": round(seconds, 3), "bars_per_s": round(n / seconds),
        "trades": result["trades"], "liquidations": result["full_liquidations"],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
