"""Regenerate the bundled example data (SYNTHETIC, not market data): `python -m isomargin.sim.data.make_examples`.

btcusdt_1m_synthetic.csv: 2,880 one-minute bars (2 days) in Binance's kline CSV layout (no header, 12 columns)
from a seeded GARCH path (seed 2024, start 60,000, annualised volatility 0.6). btcusdt_funding_synthetic.csv:
an 8-hourly funding-rate series (timestamp,funding_rate) from a seeded random walk around 0.01 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isomargin.sim.generators import garch

HERE = Path(__file__).resolve().parent
SEED = 2024


def main() -> None:
    bars = garch(2880, seed=SEED, start=60_000.0, sigma=0.6)
    rng = np.random.Generator(np.random.PCG64(SEED))
    vol = np.round(rng.gamma(2.0, 20.0, len(bars)), 3)
    lines = []
    for i in range(len(bars)):
        t = int(bars.ts[i])
        o, h, lo, c = (f"{x:.1f}" for x in (bars.open[i], bars.high[i], bars.low[i], bars.close[i]))
        qv = f"{vol[i] * bars.close[i]:.2f}"
        lines.append(f"{t},{o},{h},{lo},{c},{vol[i]:.3f},{t + 59_999},{qv},{int(vol[i] * 10)},{vol[i] / 2:.3f},0,0")
    (HERE / "btcusdt_1m_synthetic.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ts = int(bars.ts[0]) + np.arange(6, dtype=np.int64) * 8 * 3_600_000
    rates = np.round(0.0001 + np.cumsum(rng.normal(0, 0.00005, len(ts))), 8)
    rows = ["timestamp,funding_rate"] + [f"{t},{r:.8f}" for t, r in zip(ts, rates, strict=True)]
    (HERE / "btcusdt_funding_synthetic.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
