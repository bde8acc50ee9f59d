"""Backtest speed: bars/s for a moving-average cross at 10× isolated through the full engine.

A seeded GBM path of N one-minute bars (default 500,000) on Binance BTCUSDT; MACross(20, 50) with 20 % of the
wallet as margin per entry, taker fee both sides; the liquidity provider re-quotes as the path moves; every bar
that can set anything off is walked open → extremes → close as mark prices (event-driven stepping, identical
results to walking every bar: tests/sim/test_stepping.py).

Two strategies, each timed twice: `run` is `run_backtest` alone, `whole` adds what the command does around it
(the path written to and read back from a CSV, the JSON result):
  - `ma-cross`: the vectorised MACross (signals computed once with numpy, Python only at crosses);
  - `bar-callback`: MACrossBars, the same rule as a per-bar `on_bar` callback (Python at every bar).
Usage: python bench/backtest_speed.py [N] [ma-cross|bar-callback|both]   — prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

try:
    import isomargin.sim  # noqa: F401
except ModuleNotFoundError:  # a bare checkout, without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from isomargin.sim import BacktestConfig, MACross, MACrossBars, dumps, gbm, load, run_backtest

STRATEGIES = {"ma-cross": MACross, "bar-callback": MACrossBars}


def _write_csv(path: Path, n: int) -> None:
    b = gbm(n, seed=1)
    with path.open("w") as fh:
        fh.write("timestamp,open,high,low,close,volume\n")
        rows = zip(b.ts.tolist(), b.open.tolist(), b.high.tolist(), b.low.tolist(), b.close.tolist(), strict=True)
        fh.writelines(f"{t},{o:.1f},{h:.1f},{lo:.1f},{c:.1f},1\n" for t, o, h, lo, c in rows)


def one(name: str, csv: Path, n: int) -> dict[str, object]:
    cfg = BacktestConfig(symbol="BTCUSDT", leverage=10, margin_mode="isolated")
    start, cpu0 = time.perf_counter(), time.process_time()
    bars = load(csv)
    t0 = time.perf_counter()
    result = run_backtest(bars, STRATEGIES[name](20, 50), cfg)
    t1 = time.perf_counter()
    dumps(result)
    end, cpu = time.perf_counter(), time.process_time() - cpu0
    return {
        "strategy": name, "run_s": round(t1 - t0, 3), "run_bars_per_s": round(n / (t1 - t0)),
        "whole_s": round(end - start, 3), "whole_bars_per_s": round(n / (end - start)),
        "whole_cpu_s": round(cpu, 3), "whole_bars_per_cpu_s": round(n / cpu),  # what a loaded machine cannot hide
        "trades": result["trades"], "liquidations": result["full_liquidations"],
    }  # fmt: skip


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    which = sys.argv[2] if len(sys.argv) > 2 else "both"
    names = list(STRATEGIES) if which == "both" else [which]
    import isomargin.engine as engine

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "btc.csv"
        _write_csv(csv, n)
        runs = [one(name, csv, n) for name in names]
    print(json.dumps({"bench": "backtest_speed", "bars": n, "engine": engine.BUILD, "runs": runs}))


if __name__ == "__main__":
    main()
